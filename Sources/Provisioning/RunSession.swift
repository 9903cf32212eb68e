import AuditStore
import Foundation
import JobRunner
import OCIRegistry
import Synchronization

/// One recorded run in progress: its jobs, its client and its recorder.
struct RunSession: Sendable {
    let runID: RunID
    let jobs: [ProvisionJob]
    let client: RegistryClient
    let recorder: RunRecorder
    let options: ProvisionOptions

    /// Checks that the registry answers and accepts the credentials before any job starts.
    /// On failure every job is recorded as not attempted and the command ends with exit 4.
    func preflight(_ access: RegistryAccess) async throws {
        do {
            try await client.ping()
        } catch {
            let failure = PushError.classify(error)
            for job in jobs { recorder.notAttempted(job, failure: failure) }
            throw CommandError(access.preflightMessage(failure), status: .registryUnavailable)
        }
    }

    /// Runs the first job alone (a canary: it fails fast on denied credentials and gives later jobs a
    /// mount source), then the rest `concurrency` at a time.
    func run(_ attempt: @escaping @Sendable (ProvisionJob, AttemptInfo) async throws -> [TagOutcome]) async throws -> ExitStatus {
        let runner = JobRunner(concurrency: options.concurrency, retry: RetryPolicy(maxAttempts: options.maxAttempts))
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
        if let stop = failures.first, stop.failureClass == .denied || stop.failureClass == .authFailed {
            for job in jobs.dropFirst() { recorder.notAttempted(job, failure: stop) }
            recorder.console.error("error: \(stop.message); stopped before the other \(jobs.count - 1) jobs")
            return .jobsFailed
        }
        try await runner.run(jobs: AsyncJobs(jobs.dropFirst()), attempt: attempt, events: events)
        if Task.isCancelled { return .interrupted }
        return failures.count == 0 ? .success : .jobsFailed
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
