/// The kind of failure an attempt ended with, and whether trying again can help.
///
/// The runner only needs `isRetryable`; the names are what the audit log stores and what
/// reports group by. The set is deliberately small and closed so scripts can rely on it.
public struct FailureClass: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
    public let rawValue: String
    /// Whether another attempt may succeed without anything changing on the user's side.
    public let isRetryable: Bool

    public init(rawValue: String) {
        self.rawValue = rawValue
        self.isRetryable = FailureClass.retryableNames.contains(rawValue)
    }

    private init(_ name: String, retryable: Bool) {
        self.rawValue = name
        self.isRetryable = retryable
    }

    public var description: String { rawValue }

    /// 429, or a 403 that is a secondary rate limit.
    public static let rateLimited = FailureClass("rate_limited", retryable: true)
    /// 500, 502, 503, 504.
    public static let server = FailureClass("server", retryable: true)
    /// Connection refused or reset, timeout, TLS handshake failure.
    public static let network = FailureClass("network", retryable: true)
    /// The registry forgot an upload session (`BLOB_UPLOAD_UNKNOWN`, 404/416 on an upload URL).
    public static let uploadSessionLost = FailureClass("upload_session_lost", retryable: true)
    /// The credentials were refused.
    public static let authFailed = FailureClass("auth_failed", retryable: false)
    /// The credentials are valid but lack the permission.
    public static let denied = FailureClass("denied", retryable: false)
    /// Something the job needs does not exist.
    public static let notFound = FailureClass("not_found", retryable: false)
    /// The registry rejected the request as malformed (`NAME_INVALID`, `MANIFEST_INVALID`, ...).
    public static let invalid = FailureClass("invalid", retryable: false)
    /// The tag holds another image and overwriting was not allowed.
    public static let conflict = FailureClass("conflict", retryable: false)
    /// The run was interrupted before the job finished.
    public static let cancelled = FailureClass("cancelled", retryable: false)
    /// The runner holding the job stopped renewing its lease (a shared queue gave the job to another runner); as a
    /// job's end: it lost its lease too often. Recorded by the queue, never thrown by an attempt.
    public static let leaseLost = FailureClass("lease_lost", retryable: false)
    /// Held back on purpose: a release's mutable tags wait until every version tag of the release is pushed.
    public static let held = FailureClass("held", retryable: false)
    /// A bug or an unexpected answer: not retried, reported with its message.
    public static let `internal` = FailureClass("internal", retryable: false)

    /// Every class, in documentation order.
    public static let all: [FailureClass] = [
        .rateLimited, .server, .network, .uploadSessionLost, .authFailed, .denied,
        .notFound, .invalid, .conflict, .cancelled, .leaseLost, .held, .internal,
    ]

    private static let retryableNames: Set<String> = ["rate_limited", "server", "network", "upload_session_lost"]
}

/// An error that knows its ``FailureClass`` and, optionally, how long the other side asked us to wait.
public protocol ClassifiedError: Error {
    var failureClass: FailureClass { get }
    /// A wait hinted by the server (`Retry-After`, or a hint in the error message).
    var retryAfter: Duration? { get }
    /// Whether the attempt got part of the job done before it failed (such attempts do not count
    /// against the attempt limit: the job is advancing).
    var madeProgress: Bool { get }
}

extension ClassifiedError {
    public var madeProgress: Bool { false }
}
