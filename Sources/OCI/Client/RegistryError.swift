import HTTPTransport

/// One entry of a registry error body, e.g. `MANIFEST_UNKNOWN`.
///
/// See https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes .
public struct RegistryErrorDetail: Sendable, Codable, Equatable {
    /// The OCI error code, e.g. "BLOB_UNKNOWN", "DENIED", "TOOMANYREQUESTS".
    public let code: String
    /// The registry's human-readable message, if any.
    public let message: String?

    public init(code: String, message: String?) {
        self.code = code
        self.message = message
    }
}

/// Why a registry operation failed. `description` is one line and never contains credentials or tokens.
public enum RegistryError: Error, Sendable, CustomStringConvertible {
    /// Non-success HTTP answer. `operation` like "PUT manifest library/x:latest". `retryAfter` = raw Retry-After header.
    case http(operation: String, status: Int, details: [RegistryErrorDetail], retryAfter: String?)
    /// No HTTP answer (connection refused, reset, timeout, TLS); also task cancellation (kind `.other`, message "cancelled").
    case transport(operation: String, TransportError)
    /// The registry reported (or served) a digest other than the one computed locally.
    case digestMismatch(operation: String, expected: Digest, actual: Digest)
    /// Token realm refused the credentials, credentials are missing, or would have gone over plain HTTP.
    case authentication(operation: String, status: Int?, message: String)
    /// A success status with an unusable answer (missing `Location`, unparsable JSON, ...).
    case invalidResponse(operation: String, message: String)

    /// The HTTP status, when the failure was an HTTP answer.
    public var status: Int? {
        switch self {
        case let .http(_, status, _, _): status
        case let .authentication(_, status, _): status
        default: nil
        }
    }

    /// The first OCI error code, e.g. "MANIFEST_UNKNOWN", "DENIED".
    public var errorCode: String? {
        if case let .http(_, _, details, _) = self { return details.first?.code }
        return nil
    }

    /// The raw `Retry-After` header of an HTTP answer.
    public var retryAfter: String? {
        if case let .http(_, _, _, retryAfter) = self { return retryAfter }
        return nil
    }

    /// The operation that failed, e.g. "HEAD manifest ns/app:latest".
    public var operation: String {
        switch self {
        case let .http(operation, _, _, _), let .transport(operation, _), let .digestMismatch(operation, _, _),
             let .authentication(operation, _, _), let .invalidResponse(operation, _):
            operation
        }
    }

    /// True when the operation stopped because its task was cancelled.
    public var isCancellation: Bool {
        if case let .transport(_, error) = self { return error.kind == .other && error.message == "cancelled" }
        return false
    }

    public var description: String {
        switch self {
        case let .http(operation, status, details, retryAfter):
            var text = "\(operation): registry answered \(status)"
            if let first = details.first {
                text += " \(first.code)"
                if let message = first.message, !message.isEmpty { text += ": \(Self.oneLine(message))" }
            }
            if let retryAfter { text += " (retry after \(Self.oneLine(retryAfter, limit: 40)))" }
            return text
        case let .transport(operation, error):
            return "\(operation): \(error.message)"
        case let .digestMismatch(operation, expected, actual):
            return "\(operation): digest mismatch: expected \(expected), got \(actual)"
        case let .authentication(operation, status, message):
            return "\(operation): \(message)" + (status.map { " (http \($0))" } ?? "")
        case let .invalidResponse(operation, message):
            return "\(operation): invalid answer: \(message)"
        }
    }

    /// Registry-supplied text squeezed to one bounded line.
    static func oneLine(_ text: String, limit: Int = 300) -> String {
        var flat = String(text.map { $0.isNewline || $0 == "\t" ? " " : $0 })
        if flat.count > limit { flat = String(flat.prefix(limit)) + "…" }
        return flat
    }
}
