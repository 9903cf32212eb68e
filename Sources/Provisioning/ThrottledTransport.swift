import Foundation
import JobRunner
import OCIRegistry

/// Sends every request through the host's shared `RateLimiter`, and turns a throttling answer
/// (429, or 403 "secondary rate limit") into a pause of the whole host rather than of one worker.
struct ThrottledTransport: HTTPTransport {
    let base: any HTTPTransport
    let limiter: RateLimiter
    /// Told about every pause the limiter makes, to record it.
    let onPause: @Sendable (RateLimiter.Pause) -> Void

    func send(_ request: HTTPRequestSpec) async throws -> HTTPResponseSpec {
        try await limiter.acquire()
        let response = try await base.send(request)
        if let hint = Self.throttleHint(response) {
            onPause(limiter.throttled(hint: hint.wait, reason: hint.reason))
        }
        return response
    }

    /// Whether `response` says "slow down", and the wait it hints at.
    static func throttleHint(_ response: HTTPResponseSpec) -> (wait: Duration?, reason: String)? {
        let isThrottle: Bool
        switch response.status {
        case 429: isThrottle = true
        case 403: isThrottle = String(decoding: response.body.prefix(4096), as: UTF8.self).lowercased().contains("rate limit")
        default: isThrottle = false
        }
        guard isThrottle else { return nil }
        let wait = RetryAfter.parse(header: response.header("Retry-After"), now: Date())
            ?? ErrorBody.details(from: response.body).lazy.compactMap { RetryAfter.hint(inMessage: $0.message) }.first
        return (wait, response.status == 429 ? "429 too many requests" : "403 secondary rate limit")
    }
}

/// Rate-limit settings per registry host.
public enum RateDefaults {
    /// ghcr.io allows 2000 requests per minute; stay below it.
    public static let ghcr = 30.0

    /// The rate for `registry`: the one asked for, else the built-in default for known hosts, else unlimited.
    public static func rate(for registry: RegistryHost, requested: Double?) -> Double? {
        if let requested { return requested > 0 ? requested : nil }
        return registry.host == "ghcr.io" ? ghcr : nil
    }
}
