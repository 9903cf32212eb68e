import AuditStore
import Foundation
import JobRunner
import OCIRegistry
import Synchronization

/// One recorded run in progress: its jobs, its client and its recorder.
struct RunSession: Sendable {
    let access: RegistryAccess
    let runID: RunID
    let jobs: [ProvisionJob]
    let client: RegistryClient
    let recorder: RunRecorder
    let options: ProvisionOptions

    /// Checks that the registry answers and accepts the credentials before any job starts.
    /// On failure every job is recorded as not attempted and the command ends with exit 4.
    func preflight() async throws {
        guard let failure = await access.ping(client) else { return }
        for job in jobs { recorder.notAttempted(job, failure: failure) }
        throw CommandError(access.preflightMessage(failure), status: .registryUnavailable)
    }

    /// Runs the first job alone (a canary: it fails fast on denied credentials and gives later jobs a
    /// mount source), then the rest `concurrency` at a time.
    func run(_ body: @escaping @Sendable (ProvisionJob, AttemptInfo) async throws -> [TagOutcome]) async throws -> ExitStatus {
        // Every failure leaves an attempt classified, so the runner applies the retry policy of its class.
        let attempt: @Sendable (ProvisionJob, AttemptInfo) async throws -> [TagOutcome] = { job, info in
            let meter = job.progress.startAttempt()
            let before = job.progress.advancement
            do {
                return try await AttemptMeter.$current.withValue(meter) { try await body(job, info) }
            } catch let error as CancellationError {
                throw error
            } catch {
                var failure = PushError.classify(error)
                failure.madeProgress = job.progress.advancement > before
                throw failure
            }
        }
        let runner = JobRunner(concurrency: options.concurrency, retry: RetryPolicy(maxAttempts: options.maxAttempts),
                               deadline: options.deadline.map { ContinuousClock.now + $0 })
        let failures = FailureTally()
        let recorder = self.recorder
        let events: @Sendable (RunnerEvent<ProvisionJob, [TagOutcome]>) async -> Void = { event in
            await recorder.handle(event)
            if case let .finished(_, .failed(error, _, _)) = event {
                failures.note(PushError.classify(error))
            }
        }
        guard let first = jobs.first else { return .success }
        try await runner.run(jobs: AsyncJobs([first]), attempt: attempt, events: events)
        if Task.isCancelled { return .interrupted }
        if let stop = failures.first, stop.failureClass == .denied || stop.failureClass == .authFailed {
            for job in jobs.dropFirst() { recorder.notAttempted(job, failure: stop) }
            recorder.console.error(canaryMessage(stop, first: first) + "; the other \(jobs.count - 1) jobs were not attempted")
            return .jobsFailed
        }
        try await runner.run(jobs: AsyncJobs(jobs.dropFirst()), attempt: attempt, events: events)
        if Task.isCancelled { return .interrupted }
        return failures.count == 0 ? .success : .jobsFailed
    }
}

extension RunSession {
    /// Why the batch stopped after its first job, and what to do about it.
    func canaryMessage(_ failure: PushError, first: ProvisionJob) -> String {
        let who = access.credentials.map { "the credentials of \($0.username)" } ?? "anonymous access"
        let target = "\(access.registry)/\(first.repository)"
        switch failure.failureClass {
        case .denied:
            return "error: denied: \(who) cannot push to \(target) (\(failure.message)); use credentials with write access "
                + "(for ghcr.io a classic PAT with write:packages); read-only credentials can only run stevedore verify"
        default:
            return "error: \(access.registry) refused \(who) (\(failure.message)); check the username and the password or token"
        }
    }
}

/// Counts failed jobs and remembers the first failure.
final class FailureTally: Sendable {
    private let state = Mutex<(count: Int, first: PushError?)>((0, nil))

    func note(_ error: PushError) {
        state.withLock { state in
            state.count += 1
            if state.first == nil { state.first = error }
        }
    }

    var count: Int { state.withLock { $0.count } }
    var first: PushError? { state.withLock { $0.first } }
}
