/// How many times a job is tried and how long to wait between tries.
///
/// `maxAttempts` bounds the attempts that count: those that failed without getting any part of the job
/// done and were not throttled (a 429 is the server asking us to wait, not a failure of the job).
/// Every attempt is still recorded; `hardLimit` bounds them all.
///
/// Back-off is exponential with full jitter: the wait before attempt `n + 1` is drawn uniformly from
/// `0 ... min(maxDelay, baseDelay * 2^(n-1))`. A server hint (`Retry-After`) replaces the draw when it is
/// longer, capped at `maxHint` so a hostile or broken header cannot park a run for hours.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    public var maxHint: Duration

    /// Attempts of one job in all, counted or not.
    public var hardLimit: Int { maxAttempts * 4 }

    public init(maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(200),
                maxDelay: Duration = .seconds(20), maxHint: Duration = .seconds(120)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxHint = maxHint
    }

    /// Why a wait was chosen; stored with the attempt.
    public enum WaitReason: String, Sendable {
        case backoff
        case serverHint = "server_hint"
    }

    /// The upper bound of the jittered wait after `attempt` (1-based) failed.
    public func backoffCeiling(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let ceiling = baseDelay * (1 << exponent)
        return ceiling < maxDelay ? ceiling : maxDelay
    }

    /// The wait after `attempt` failed, given an optional server hint and a uniform random number in `0..<1`.
    public func delay(afterAttempt attempt: Int, hint: Duration?, unit: Double) -> (Duration, WaitReason) {
        let jittered = backoffCeiling(afterAttempt: attempt) * min(max(unit, 0), 1)
        if let hint, hint > jittered {
            return (hint < maxHint ? hint : maxHint, .serverHint)
        }
        return (jittered, .backoff)
    }
}
