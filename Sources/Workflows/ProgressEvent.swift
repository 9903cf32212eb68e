import AuditStore

/// What a run tells whoever shows its progress (the CLI's console: lines, a status line, or JSON lines).
/// Typed, so every style renders the same facts and the JSON keys are fixed in one place.
public enum ProgressEvent: Sendable {
    /// A run of `total` jobs begins, which may send up to `bytes` bytes of content.
    case runStarted(total: Int, bytes: Int64)
    /// Content bytes sent (blob and file bodies), as they go.
    case bytesSent(Int64)
    case jobStarted(JobStarted)
    case attemptFailed(AttemptFailed)
    /// The rate limiter paused every worker.
    case rateLimited(RateLimited)
    case jobFinished(JobFinished)
    /// The run is over (its summary is in the audit log).
    case runFinished(RunFinished)
    /// A line of the command's answer (a dry run's plan, "resuming run 7 ...").
    case line(String)
    /// A warning or error line for stderr.
    case warning(String)

    public struct JobStarted: Sendable {
        public var runID: RunID
        public var jobID: JobID
        public var service: String
        /// Where the job writes, e.g. `ghcr.io/org/api`.
        public var target: String
    }

    public struct AttemptFailed: Sendable {
        public var runID: RunID
        public var jobID: JobID
        public var service: String
        public var attempt: Int
        public var errorClass: String?
        public var httpStatus: Int?
        public var errorCode: String?
        public var message: String?
        /// The wait before the next attempt; nil when none follows.
        public var waitMs: Int?
    }

    public struct RateLimited: Sendable {
        public var runID: RunID
        public var registry: String
        public var reason: String
        public var pauseMs: Int
        /// Requests per second after backing off; nil: unlimited.
        public var rateAfter: Double?
        /// The sentence for a plain-text log.
        public var message: String
    }

    public struct JobFinished: Sendable {
        public enum Outcome: Sendable { case ok, skipped, failed, cancelled }

        public var runID: RunID
        public var jobID: JobID
        public var service: String
        public var target: String
        public var outcome: Outcome
        public var status: JobStatus
        public var errorClass: String?
        public var errorMessage: String?
        public var digest: String?
        /// Each item (tag, file) with what was done and the digest it holds.
        public var items: [(item: String, action: String, digest: String?)]
        /// The human line for this job (`pushed    ghcr.io/org/api  pushed: latest`).
        public var line: String
        /// Request body bytes the job's attempts sent.
        public var bytesSent: Int64
    }

    public struct RunFinished: Sendable {
        public var summary: RunSummary
        /// Where the audit log is.
        public var auditLog: String
        /// `run 7 succeeded: 15 jobs (...)`.
        public var line: String
    }
}

/// Receives a run's progress. Called from concurrent tasks; implementations serialise their output.
public protocol ProgressSink: Sendable {
    func emit(_ event: ProgressEvent)
}

/// Discards every event (tests, and commands without progress).
public struct SilentProgress: ProgressSink {
    public init() {}
    public func emit(_ event: ProgressEvent) {}
}
