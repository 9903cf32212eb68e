import Foundation

/// A failed step of a job, classified for the retry policy and the audit log: the class, the one-line message,
/// and what the other side answered (HTTP status, its error code, the wait it asked for).
public struct JobFailure: ClassifiedError, Sendable, CustomStringConvertible {
    public let failureClass: FailureClass
    public let retryAfter: Duration?
    public let httpStatus: Int?
    public let errorCode: String?
    public let message: String
    /// Set by the attempt that failed when it had got part of the job done first.
    public var madeProgress = false

    public init(failureClass: FailureClass, message: String, httpStatus: Int? = nil,
                errorCode: String? = nil, retryAfter: Duration? = nil) {
        self.failureClass = failureClass
        self.message = message
        self.httpStatus = httpStatus
        self.errorCode = errorCode
        self.retryAfter = retryAfter
    }

    public var description: String { message }

    /// Classifies any error a job threw: domain errors classify themselves (``JobFailureConvertible``),
    /// cancellation is `cancelled`, anything else is `internal`. `now` reads `Retry-After` dates.
    public static func classify(_ error: any Error, now: Date) -> JobFailure {
        if let error = error as? JobFailure { return error }
        if let error = error as? any JobFailureConvertible { return error.jobFailure(now: now) }
        if error is CancellationError { return JobFailure(failureClass: .cancelled, message: "cancelled") }
        return JobFailure(failureClass: .internal, message: "\(error)")
    }
}

/// A domain error (a registry's, a Maven repository's) that knows how to classify itself.
public protocol JobFailureConvertible: Error {
    func jobFailure(now: Date) -> JobFailure
}
