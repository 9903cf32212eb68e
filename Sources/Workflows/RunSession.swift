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
    /// The store's shared queue, when runners on other machines may take part: the jobs after the canary are
    /// enqueued there and claimed by this process and by `stevedore worker`s alike.
    var shared: SharedQueue?

    /// Records every job as not attempted because of `failure` (the run stopped before them).
    func notAttempted(_ jobs: some Sequence<Item>, failure: JobFailure) async {
        for job in jobs { await recorder.notAttempted(job, failure: failure) }
    }

    /// Runs the first job alone (a canary: it fails fast on denied credentials and gives later jobs a mount source),
    /// then the rest `concurrency` at a time. `stopMessage` words the error when the canary is refused. With a shared
    /// queue both go through it (any runner may take them; a job a dead runner still holds is taken back first).
    func run(_ body: @escaping @Sendable (Item, AttemptInfo) async throws -> Handler.Output, canary: Bool = true,
             stopMessage: @escaping @Sendable (JobFailure, Item) -> String) async throws -> RunOutcome {
        let attempt = classified(body)
        let runner = JobRunner(concurrency: options.concurrency, retry: RetryPolicy(maxAttempts: options.maxAttempts),
                               deadlineAfter: options.deadline, time: context.time)
        let failures = FailureTally()
        let events = recording(failures)
        guard let first = jobs.first else { return .succeeded }
        let batches: [[Item]] = canary ? [[first], Array(jobs.dropFirst())] : [jobs]
        for (index, batch) in batches.enumerated() where !batch.isEmpty {
            if let shared {
                try await runShared(batch, shared, attempt: attempt, events: events)
            } else {
                try await runner.run(jobs: AsyncJobs(batch), attempt: attempt, events: events)
            }
            if Task.isCancelled { return .interrupted }
            guard canary, index == 0 else { continue }
            let failure = shared == nil ? failures.first : try await recordedFailure(of: first)
            if let stop = failure, stop.failureClass == .denied || stop.failureClass == .authFailed {
                await notAttempted(jobs.dropFirst(), failure: stop)
                context.progress.emit(.warning("error: " + stopMessage(stop, first)
                                               + "; the other \(jobs.count - 1) jobs were not attempted"))
                return .jobsFailed
            }
        }
        if shared != nil { return try await recordedOutcome(of: jobs) && failures.count == 0 ? .succeeded : .jobsFailed }
        return failures.count == 0 ? .succeeded : .jobsFailed
    }

    /// `body` as the runner's attempt: metered, and every failure classified (with whether the attempt advanced the
    /// job), so the runner applies the retry policy of its class.
    func classified(_ body: @escaping @Sendable (Item, AttemptInfo) async throws -> Handler.Output)
        -> @Sendable (Item, AttemptInfo) async throws -> Handler.Output {
        let handler = self.handler, time = context.time
        return { job, info in
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
    }

    /// The runner's events, recorded; failed jobs are noted in `failures`, and a claimed job's lease is let go.
    func recording(_ failures: FailureTally) -> @Sendable (RunnerEvent<Item, Handler.Output>) async -> Void {
        let recorder = self.recorder, keeper = shared?.keeper, time = context.time
        return { event in
            await recorder.handle(event)
            if case let .finished(job, outcome) = event {
                if case let .failed(error, _, _) = outcome { failures.note(JobFailure.classify(error, now: time.wallClock)) }
                // A job back in the queue lets its lease go; an ended one keeps it until its finish is committed.
                switch outcome {
                case .rescheduled, .cancelled: if let fence = job.claim?.fence { keeper?.drop(fence) }
                default: break
                }
            }
        }
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
