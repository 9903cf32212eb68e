import HTTPTransport
import AuditStore
import Foundation
import JobRunner
import Synchronization

/// One recorded run in progress: its jobs and its recorder, run with a canary first job.
struct RunSession<Handler: JobKindHandler>: Sendable {
    typealias Item = WorkItem<Handler.Payload>

    let jobs: [Item]
    let recorder: RunRecorder<Handler>
    let handler: Handler
    let options: RunOptions
    let context: WorkflowContext

    /// Records every job as not attempted because of `failure` (the run stopped before them).
    func notAttempted(_ jobs: some Sequence<Item>, failure: JobFailure) async {
        for job in jobs { await recorder.notAttempted(job, failure: failure) }
    }

    /// Runs the first job alone (a canary: it fails fast on denied credentials and gives later jobs a mount source),
    /// then the rest `concurrency` at a time. `stopMessage` words the error when the canary is refused.
    func run(_ body: @escaping @Sendable (Item, AttemptInfo) async throws -> Handler.Output, canary: Bool = true,
             stopMessage: @escaping @Sendable (JobFailure, Item) -> String) async throws -> RunOutcome {
        // Every failure leaves an attempt classified, so the runner applies the retry policy of its class.
        let handler = self.handler, time = context.time
        let attempt: @Sendable (Item, AttemptInfo) async throws -> Handler.Output = { job, info in
            let meter = job.meter.startAttempt()
            let before = handler.advancement(of: job.payload)
            do {
                return try await RequestMeterScope.run(meter) { try await body(job, info) }
            } catch let error as CancellationError {
                throw error
            } catch {
                var failure = JobFailure.classify(error, now: time.wallClock)
                failure.madeProgress = handler.advancement(of: job.payload) > before
                throw failure
            }
        }
        let runner = JobRunner(concurrency: options.concurrency, retry: RetryPolicy(maxAttempts: options.maxAttempts),
                               deadlineAfter: options.deadline, time: context.time)
        let failures = FailureTally()
        let recorder = self.recorder
        let events: @Sendable (RunnerEvent<Item, Handler.Output>) async -> Void = { event in
            await recorder.handle(event)
            if case let .finished(_, .failed(error, _, _)) = event {
                failures.note(JobFailure.classify(error, now: time.wallClock))
            }
        }
        guard let first = jobs.first else { return .succeeded }
        guard canary else {
            try await runner.run(jobs: AsyncJobs(jobs), attempt: attempt, events: events)
            if Task.isCancelled { return .interrupted }
            return failures.count == 0 ? .succeeded : .jobsFailed
        }
        try await runner.run(jobs: AsyncJobs([first]), attempt: attempt, events: events)
        if Task.isCancelled { return .interrupted }
        if let stop = failures.first, stop.failureClass == .denied || stop.failureClass == .authFailed {
            await notAttempted(jobs.dropFirst(), failure: stop)
            context.progress.emit(.warning("error: " + stopMessage(stop, first)
                                           + "; the other \(jobs.count - 1) jobs were not attempted"))
            return .jobsFailed
        }
        try await runner.run(jobs: AsyncJobs(jobs.dropFirst()), attempt: attempt, events: events)
        if Task.isCancelled { return .interrupted }
        return failures.count == 0 ? .succeeded : .jobsFailed
    }
}

/// Binds a request meter to the task, so every request the attempt sends is charged to it.
enum RequestMeterScope {
    static func run<T: Sendable>(_ meter: RequestMeter, _ body: () async throws -> T) async throws -> T {
        try await RequestMeter.$current.withValue(meter) { try await body() }
    }
}

/// Counts failed jobs and remembers the first failure.
final class FailureTally: Sendable {
    private let state = Mutex<(count: Int, first: JobFailure?)>((0, nil))

    func note(_ error: JobFailure) {
        state.withLock { state in
            state.count += 1
            if state.first == nil { state.first = error }
        }
    }

    var count: Int { state.withLock { $0.count } }
    var first: JobFailure? { state.withLock { $0.first } }
}
