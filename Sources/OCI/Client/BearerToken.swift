import Foundation

/// A bearer token from a token realm, with the scopes it was requested for and when to stop using it.
struct BearerToken: Sendable {
    /// The secret itself: only ever placed in an `Authorization` header.
    let value: String
    let scopes: ScopeSet
    /// Expiry minus a 10% safety margin, on the client's monotonic clock.
    let usableUntil: Duration
    /// Fetched with the user's credentials (so it stands for them).
    let withCredentials: Bool

    func isUsable(at now: Duration) -> Bool { now < usableUntil }
}

/// The token endpoint's JSON answer: `token` or `access_token`, `expires_in` (seconds), `issued_at` (RFC 3339).
struct TokenResponse: Decodable {
    let token: String?
    let accessToken: String?
    let expiresIn: Double?
    let issuedAt: String?

    enum CodingKeys: String, CodingKey {
        case token
        case accessToken = "access_token"
        case expiresIn = "expires_in"
        case issuedAt = "issued_at"
    }

    /// Lifetime assumed when `expires_in` is absent or nonsensical.
    static let defaultLifetime: Double = 60

    /// The token value, preferring `token`.
    var value: String? {
        if let token, !token.isEmpty { return token }
        if let accessToken, !accessToken.isEmpty { return accessToken }
        return nil
    }

    /// Seconds this token stays valid after `requestedAt` (wall clock, when the request was sent).
    ///
    /// `issued_at` earlier than the request means the realm handed out an older token, so its age is
    /// subtracted; the age is capped at half the lifetime so a realm with a skewed clock cannot make
    /// every token look expired.
    func remainingLifetime(requestedAt: Date) -> Double {
        var lifetime = Self.defaultLifetime
        if let expiresIn, expiresIn.isFinite, expiresIn > 0 { lifetime = expiresIn }
        guard let issuedAt, let issued = Self.parseTimestamp(issuedAt) else { return lifetime }
        let age = requestedAt.timeIntervalSince(issued)
        guard age > 0 else { return lifetime }
        return lifetime - min(age, lifetime / 2)
    }

    static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        // Nanosecond fractions (Go's RFC3339Nano) are too long for the formatter: cut them to milliseconds.
        if let dot = text.firstIndex(of: "."),
           let zone = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
            let fraction = text[text.index(after: dot)..<zone].prefix(3)
            let trimmed = text[..<dot] + "." + fraction + text[zone...]
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return formatter.date(from: String(trimmed))
        }
        return nil
    }
}
