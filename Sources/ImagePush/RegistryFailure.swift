import Foundation
import HTTPTransport
import JobRunner
import OCI

/// How a registry's answers map to the runner's failure classes (the README's table of error classes).
extension RegistryError: JobFailureConvertible {
    public func jobFailure(now: Date) -> JobFailure {
        let message = description
        switch self {
        case let .http(operation, status, details, retryAfterHeader):
            let code = details.first?.code
            let hint = RetryAfter.parse(header: retryAfterHeader, now: now)
                ?? details.lazy.compactMap { RetryAfter.hint(inMessage: $0.message) }.first
            let failureClass = Self.classify(status: status, code: code, details: details, operation: operation)
            let remedy = Self.chunkTooLarge(status: status, details: details, operation: operation)
                ? "; the registry caps upload chunks (ghcr.io: 4 MiB): push with --upload-mode chunked --chunk-size 4MiB" : ""
            return JobFailure(failureClass: failureClass, message: message + remedy, httpStatus: status, errorCode: code,
                              retryAfter: hint)
        case .transport:
            return JobFailure(failureClass: isCancellation ? .cancelled : .network, message: message)
        case .digestMismatch:
            return JobFailure(failureClass: .invalid, message: message)
        case let .authentication(_, status, _):
            return JobFailure(failureClass: .authFailed, message: message, httpStatus: status)
        case .invalidResponse:
            return JobFailure(failureClass: .server, message: message)
        }
    }

    /// ghcr.io's answer to a PATCH over its chunk limit: 416 "... exceeds the maximum permissible limit of 4.00MiB"
    /// (the same request fails again: not retried).
    static func chunkTooLarge(status: Int, details: [RegistryErrorDetail], operation: String) -> Bool {
        status == 416 && operation.hasPrefix("PATCH blob")
            && details.contains { ($0.message ?? "").lowercased().contains("too large") }
    }

    /// The class of an HTTP error answer.
    static func classify(status: Int, code: String?, details: [RegistryErrorDetail], operation: String) -> FailureClass {
        let text = details.compactMap(\.message).joined(separator: " ").lowercased()
        if code == "BLOB_UPLOAD_UNKNOWN" || code == "BLOB_UPLOAD_INVALID" { return .uploadSessionLost }
        if code == "TOOMANYREQUESTS" || status == 429 { return .rateLimited }
        // A 401 with error="insufficient_scope" arrives as DENIED: known identity, no permission.
        if code == "DENIED" { return text.contains("rate limit") ? .rateLimited : .denied }
        switch status {
        case 500, 502, 503, 504: return .server
        case 401: return .authFailed
        case 403: return text.contains("rate limit") ? .rateLimited : .denied
        case 404:
            return operation.hasPrefix("PUT blob") || operation.hasPrefix("PATCH blob") ? .uploadSessionLost : .notFound
        case 416: return chunkTooLarge(status: status, details: details, operation: operation) ? .invalid : .uploadSessionLost
        case 400, 405, 409, 411, 413, 415, 422: return .invalid
        case 408: return .network
        default: return status >= 500 ? .server : .invalid
        }
    }
}
