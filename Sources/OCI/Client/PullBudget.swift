import HTTPTransport
import HTTPTypes

/// A registry's pull limit as its manifest answers state it (Docker Hub: `ratelimit-limit: 100;w=21600` and
/// `ratelimit-remaining: 76;w=21600`, on GET and on HEAD; a HEAD does not count as a pull).
///
/// See https://docs.docker.com/docker-hub/usage/pulls/ (the rate-limit headers).
public struct PullBudget: Sendable, Equatable, CustomStringConvertible {
    public let limit: Int
    public let remaining: Int
    /// The window the limit applies to, in seconds.
    public let windowSeconds: Int?

    public init(limit: Int, remaining: Int, windowSeconds: Int?) {
        self.limit = limit
        self.remaining = remaining
        self.windowSeconds = windowSeconds
    }

    /// The budget an answer announces; nil when it announces none.
    init?(_ response: CollectedResponse) {
        guard let remaining = response[Self.remainingField].flatMap(Self.parse),
              let limit = response[Self.limitField].flatMap(Self.parse) else { return nil }
        self.init(limit: limit.count, remaining: remaining.count, windowSeconds: remaining.window ?? limit.window)
    }

    static let limitField = HTTPField.Name("ratelimit-limit")!
    static let remainingField = HTTPField.Name("ratelimit-remaining")!

    /// `76;w=21600` -> (76, 21600).
    static func parse(_ value: String) -> (count: Int, window: Int?)? {
        let parts = value.split(separator: ";").map { $0.trimmingASCIISpaces() }
        guard let first = parts.first, let count = Int(first), count >= 0 else { return nil }
        let window = parts.dropFirst().first { $0.hasPrefix("w=") }.flatMap { Int($0.dropFirst(2)) }
        return (count, window)
    }

    public var description: String {
        "\(remaining) of \(limit) pulls left" + (windowSeconds.map { " per \($0)s window" } ?? "")
    }
}
