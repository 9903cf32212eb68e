import Foundation
import Timekeeping

/// Runs jobs with bounded concurrency and retries; knows nothing about what a job does.
///
/// Jobs are pulled from an `AsyncSequence` only when a worker slot is free, so a run of
/// ten thousand jobs never holds more than `concurrency` of them in flight.
public struct JobRunner: Sendable {
    public let concurrency: Int
    public let retry: RetryPolicy
    /// No job starts, and no retry is scheduled to start, after this instant of `time`'s monotonic clock.
    public let deadline: Duration?
    /// The clock for deadlines, attempt timing and back-off sleeps.
    public let time: any TimeSource
    /// When true, a job whose attempt failed and may be retried is not slept on: it ends `rescheduled` with the wait
    /// and its ``RetryState``, for a shared queue to run again later (on any runner).
    public let schedulesRetries: Bool
    private let random: @Sendable () -> Double

    public init(concurrency: Int, retry: RetryPolicy = RetryPolicy(), deadline: Duration? = nil,
                time: any TimeSource = SystemTime(), schedulesRetries: Bool = false,
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.concurrency = max(1, concurrency)
        self.retry = retry
        self.deadline = deadline
        self.time = time
        self.schedulesRetries = schedulesRetries
        self.random = random
    }

    /// A runner whose deadline is `limit` from now on `time`'s clock (no deadline when nil).
    public init(concurrency: Int, retry: RetryPolicy = RetryPolicy(), deadlineAfter limit: Duration?,
                time: any TimeSource = SystemTime(), schedulesRetries: Bool = false,
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.init(concurrency: concurrency, retry: retry, deadline: limit.map { time.monotonic + $0 }, time: time,
                  schedulesRetries: schedulesRetries, random: random)
    }

    /// Runs every job of `jobs`, at most `concurrency` at once. A job is pulled only once a slot is free, so a
    /// sequence that claims jobs from a shared queue never holds more than it runs. `state` gives a job's retry
    /// counters from earlier runners (a job scheduled again by a shared queue).
    ///
    /// Cancelling the calling task stops pulling new jobs; jobs in flight see the cancellation
    /// in their `attempt` closure and end as `cancelled`.
    public func run<Jobs: AsyncSequence & Sendable, Output: Sendable>(
        jobs: Jobs,
        state: @escaping @Sendable (Jobs.Element) -> RetryState = { _ in RetryState() },
        attempt: @escaping @Sendable (Jobs.Element, AttemptInfo) async throws -> Output,
        events: @escaping @Sendable (RunnerEvent<Jobs.Element, Output>) async -> Void
    ) async throws where Jobs.Element: Sendable {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            var iterator = jobs.makeAsyncIterator()
            while !Task.isCancelled, !pastDeadline() {
                if inFlight >= concurrency {
                    try await group.next()
                    inFlight -= 1
                    continue
                }
                guard let job = try await iterator.next() else { break }
                if Task.isCancelled || pastDeadline() { break }
                inFlight += 1
                group.addTask {
                    await self.runOne(job, from: state(job), attempt: attempt, events: events)
                }
            }
            try await group.waitForAll()
        }
    }

    func runOne<Job: Sendable, Output: Sendable>(
        _ job: Job,
        from initial: RetryState = RetryState(),
        attempt: @Sendable (Job, AttemptInfo) async throws -> Output,
        events: @Sendable (RunnerEvent<Job, Output>) async -> Void
    ) async {
        await events(.started(job))
        var number = 0
        // Failed attempts that count against the limit, and failures since the job last advanced
        // (the back-off exponent).
        var counted = initial.counted
        var consecutive = initial.consecutive
        while true {
            number += 1
            let startedAt = time.wallClock
            let start = time.monotonic
            do {
                let output = try await attempt(job, AttemptInfo(number: number, maxAttempts: retry.maxAttempts))
                await events(.attemptEnded(job, AttemptReport(number: number, startedAt: startedAt,
                                                              duration: time.monotonic - start, failure: nil)))
                await events(.finished(job, .succeeded(output, attempts: number)))
                return
            } catch {
                let cancelled = Task.isCancelled || error is CancellationError
                let failureClass = cancelled ? .cancelled : Self.classify(error)
                let classified = error as? ClassifiedError
                let progressed = classified?.madeProgress ?? false
                consecutive = progressed ? 1 : consecutive + 1
                if !progressed && failureClass != .rateLimited { counted += 1 }
                var wait: (Duration, RetryPolicy.WaitReason)?
                if !cancelled, failureClass.isRetryable, counted < retry.maxAttempts,
                   initial.attempts + number < retry.hardLimit {
                    wait = retry.delay(afterAttempt: consecutive, hint: classified?.retryAfter, unit: random())
                    if let chosen = wait, pastDeadline(after: chosen.0) { wait = nil }
                }
                let after = RetryState(attempts: initial.attempts + number, counted: counted, consecutive: consecutive)
                let failure = AttemptReport.Failure(error: error, failureClass: failureClass, nextWait: wait?.0,
                                                    waitReason: wait?.1,
                                                    rescheduled: schedulesRetries && wait != nil ? after : nil)
                await events(.attemptEnded(job, AttemptReport(number: number, startedAt: startedAt,
                                                              duration: time.monotonic - start, failure: failure)))
                guard let wait else {
                    await events(.finished(job, cancelled ? .cancelled(attempts: number)
                                                          : .failed(error, failureClass, attempts: number)))
                    return
                }
                if schedulesRetries {
                    await events(.finished(job, .rescheduled(after: wait.0, attempts: number)))
                    return
                }
                do {
                    try await time.sleep(for: wait.0)
                } catch {
                    await events(.finished(job, .cancelled(attempts: number)))
                    return
                }
            }
        }
    }

    /// Whether the deadline has passed, or will have after `wait`.
    func pastDeadline(after wait: Duration = .zero) -> Bool {
        guard let deadline else { return false }
        return time.monotonic + wait >= deadline
    }

    static func classify(_ error: any Error) -> FailureClass {
        (error as? ClassifiedError)?.failureClass ?? .internal
    }
}
