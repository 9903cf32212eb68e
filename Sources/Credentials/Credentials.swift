import Foundation

/// A username and a password or token for a registry or a package repository.
///
/// `description` (and so string interpolation and logging) shows only the username; the secret is
/// reachable solely through `secret` and the `Authorization` header built from it.
public struct Credentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, Hashable {
    public let username: String
    public let secret: String

    public init(username: String, secret: String) {
        self.username = username
        self.secret = secret
    }

    public var description: String { "\(username):<redacted>" }
    public var debugDescription: String { description }

    /// `Basic base64(username:secret)` (RFC 7617).
    public var basicAuthorization: String {
        "Basic " + Data("\(username):\(secret)".utf8).base64EncodedString()
    }
}

extension Credentials: CustomReflectable {
    /// Keeps the secret out of `dump()` and `String(reflecting:)` mirrors.
    public var customMirror: Mirror {
        Mirror(self, children: ["username": username, "secret": "<redacted>"])
    }
}
