import Foundation

/// Sends every request through the host's shared ``RateLimiter``, and turns a throttling answer (429, or a 403
/// whose text names a rate limit, as GitHub's "secondary rate limit") into a pause of the whole host rather than
/// of one worker.
public struct ThrottledTransport: HTTPTransport {
    let base: any HTTPTransport
    let limiter: RateLimiter
    /// Told about every pause the limiter makes, to record it.
    let onPause: @Sendable (RateLimiter.Pause) -> Void
    let time: @Sendable () -> Date

    public init(base: any HTTPTransport, limiter: RateLimiter, now: @escaping @Sendable () -> Date = { Date() },
                onPause: @escaping @Sendable (RateLimiter.Pause) -> Void) {
        self.base = base
        self.limiter = limiter
        self.onPause = onPause
        self.time = now
    }

    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        try await limiter.acquire()
        let response = try await base.send(request)
        guard response.status == 429 || response.status == 403 else { return response }
        // Throttling answers are short: read the text once, then hand the same bytes on.
        let collected = try await response.collected(upTo: 1 << 20)
        if let hint = Self.throttleHint(collected, now: time()) {
            onPause(limiter.throttled(hint: hint.wait, reason: hint.reason))
        }
        return TransportResponse(status: collected.status, headerFields: collected.headerFields,
                                 body: .bytes(collected.body))
    }

    /// Whether `response` says "slow down", and the wait it hints at (`Retry-After`, or a `retry-after: 10.48ms`
    /// hint in its text as ghcr.io writes it).
    public static func throttleHint(_ response: CollectedResponse, now: Date) -> (wait: Duration?, reason: String)? {
        let text = String(decoding: response.body.prefix(4096), as: UTF8.self)
        switch response.status {
        case 429: break
        case 403 where text.lowercased().contains("rate limit"): break
        default: return nil
        }
        let wait = RetryAfter.parse(header: response[.retryAfter], now: now) ?? RetryAfter.hint(inMessage: text)
        return (wait, response.status == 429 ? "429 too many requests" : "403 secondary rate limit")
    }
}
