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
    }
}

/// How a job ended.
public enum JobOutcome<Output: Sendable>: Sendable {
    case succeeded(Output, attempts: Int)
    case failed(any Error, FailureClass, attempts: Int)
    case cancelled(attempts: Int)
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
