import Foundation
import JobRunner
import OCIRegistry

/// A failed step of a push job, classified for the retry policy and the audit log.
public struct PushError: ClassifiedError, Sendable, CustomStringConvertible {
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

    /// Classifies any error thrown while pushing.
    public static func classify(_ error: any Error, now: Date = Date()) -> PushError {
        if let error = error as? PushError { return error }
        if let error = error as? RegistryError { return classify(error, now: now) }
        if error is CancellationError { return PushError(failureClass: .cancelled, message: "cancelled") }
        return PushError(failureClass: .internal, message: "\(error)")
    }

    static func classify(_ error: RegistryError, now: Date) -> PushError {
        let message = error.description
        switch error {
        case let .http(operation, status, details, retryAfterHeader):
            let code = details.first?.code
            let hint = RetryAfter.parse(header: retryAfterHeader, now: now)
                ?? details.lazy.compactMap { RetryAfter.hint(inMessage: $0.message) }.first
            let failureClass = classify(status: status, code: code, details: details, operation: operation)
            return PushError(failureClass: failureClass, message: message, httpStatus: status,
                             errorCode: code, retryAfter: hint)
        case .transport:
            return PushError(failureClass: .network, message: message)
        case .digestMismatch:
            return PushError(failureClass: .invalid, message: message)
        case let .authentication(_, status, _):
            return PushError(failureClass: .authFailed, message: message, httpStatus: status)
        case .invalidResponse:
            return PushError(failureClass: .server, message: message)
        }
    }

    /// The class of an HTTP error answer; see the README's table of error classes.
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
        case 416: return .uploadSessionLost
        case 400, 405, 409, 411, 413, 415, 422: return .invalid
        case 408: return .network
        default: return status >= 500 ? .server : .invalid
        }
    }
}

/// Parses the waits servers ask for.
public enum RetryAfter {
    /// `Retry-After` as delta-seconds (fractions tolerated) or an HTTP-date (RFC 9110 section 10.2.3).
    public static func parse(header: String?, now: Date) -> Duration? {
        guard let raw = header?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
        if let seconds = Double(raw), seconds.isFinite, seconds >= 0 {
            return .milliseconds(Int64((seconds * 1000).rounded(.up)))
        }
        guard let date = httpDate(raw) else { return nil }
        let delta = date.timeIntervalSince(now)
        return .milliseconds(Int64(max(0, delta) * 1000))
    }

    /// The hint ghcr.io puts in a 429 message: `retry-after: 10.48ms, allowed: 2000/minute`
    /// (units ms, s, m; also Go durations like `1m30s`).
    public static func hint(inMessage message: String?) -> Duration? {
        guard let message = message?.lowercased(), let range = message.range(of: "retry-after:") else { return nil }
        let rest = message[range.upperBound...].drop(while: { $0 == " " })
        let token = rest.prefix(while: { $0.isNumber || $0 == "." || $0.isLetter || $0 == "µ" })
        return goDuration(String(token))
    }

    /// A positive duration written like `90s`, `30m`, `1h30m` or `10.48ms` (a bare number is seconds).
    public static func duration(_ text: String) -> Duration? {
        goDuration(text.lowercased()).flatMap { $0 > .zero ? $0 : nil }
    }

    /// A Go-style duration such as `10.48ms`, `2s`, `1m30s`.
    static func goDuration(_ text: String) -> Duration? {
        var total = 0.0
        var index = text.startIndex
        var parsedAny = false
        while index < text.endIndex {
            let numberEnd = text[index...].firstIndex(where: { !($0.isNumber || $0 == ".") }) ?? text.endIndex
            guard numberEnd > index, let value = Double(text[index..<numberEnd]) else { return nil }
            let unitEnd = text[numberEnd...].firstIndex(where: { $0.isNumber || $0 == "." }) ?? text.endIndex
            let scale: Double
            switch text[numberEnd..<unitEnd] {
            case "ns": scale = 1e-9
            case "us", "µs": scale = 1e-6
            case "ms": scale = 1e-3
            case "s", "": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            default: return nil
            }
            total += value * scale
            parsedAny = true
            index = unitEnd
        }
        guard parsedAny else { return nil }
        return .microseconds(Int64((total * 1e6).rounded()))
    }

    private static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}

/// The error class names, for command-line validation (the CLI does not depend on JobRunner).
public enum FailureClassNames {
    public static let all = FailureClass.all.map(\.rawValue)
}
