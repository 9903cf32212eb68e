import Foundation

/// What happened to one attempt of a job.
public struct AttemptReport: Sendable {
    /// 1-based attempt number.
    public let number: Int
    public let startedAt: Date
    public let duration: Duration
    /// `nil` when the attempt succeeded.
    public let failure: Failure?

    public struct Failure: Sendable {
        public let error: any Error
        public let failureClass: FailureClass
        /// The wait before the next attempt, or `nil` when no further attempt will be made.
        public let nextWait: Duration?
        public let waitReason: RetryPolicy.WaitReason?
        /// Set when the next attempt is left to a shared queue (``JobRunner/schedulesRetries``): the counters it
        /// carries to it.
        public let rescheduled: RetryState?

        public init(error: any Error, failureClass: FailureClass, nextWait: Duration?,
                    waitReason: RetryPolicy.WaitReason?, rescheduled: RetryState? = nil) {
            self.error = error
            self.failureClass = failureClass
            self.nextWait = nextWait
            self.waitReason = waitReason
            self.rescheduled = rescheduled
        }
    }
}

/// Where a job stands with the retry policy: attempts made so far (by any runner), failures that count against the
/// limit, and failures since it last advanced.
public struct RetryState: Sendable, Equatable {
    public var attempts: Int
    public var counted: Int
    public var consecutive: Int

    public init(attempts: Int = 0, counted: Int = 0, consecutive: Int = 0) {
        self.attempts = attempts
        self.counted = counted
        self.consecutive = consecutive
    }
}

/// How a job ended.
public enum JobOutcome<Output: Sendable>: Sendable {
    case succeeded(Output, attempts: Int)
    case failed(any Error, FailureClass, attempts: Int)
    case cancelled(attempts: Int)
    /// The attempt failed and another may succeed: a shared queue runs the job again after `after`.
    case rescheduled(after: Duration, attempts: Int)
}

/// Events the runner reports, in order per job: `started`, one `attemptEnded` per attempt, `finished`.
/// The runner awaits the handler before going on, so a handler that records an attempt has done so
/// before the next attempt starts.
public enum RunnerEvent<Job: Sendable, Output: Sendable>: Sendable {
    case started(Job)
    case attemptEnded(Job, AttemptReport)
    case finished(Job, JobOutcome<Output>)
}

/// What an attempt is told about itself.
public struct AttemptInfo: Sendable {
    public let number: Int
    public let maxAttempts: Int
    public var isLast: Bool { number >= maxAttempts }
}
