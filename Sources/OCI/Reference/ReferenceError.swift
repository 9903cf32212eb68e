/// Why a registry address, repository name, tag or digest was rejected.
///
/// `message` is one lowercase line naming the offending value and the rule it breaks, e.g.
/// `repository name 'Foo/bar' is invalid: must be lowercase (component 'Foo')`.
public struct ReferenceError: Error, Sendable, CustomStringConvertible, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }

    /// Shortens a user-given value for messages so a huge input cannot flood the output.
    static func clip(_ text: some StringProtocol, limit: Int = 80) -> String {
        let flat = text.map { $0.isNewline ? " " : $0 }
        if flat.count <= limit { return String(flat) }
        return String(flat.prefix(limit)) + "…"
    }
}
