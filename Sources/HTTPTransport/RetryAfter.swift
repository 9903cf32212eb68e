import Foundation
import Timekeeping

/// The waits servers ask for.
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

    /// The hint ghcr.io puts in a 429 message: `retry-after: 10.48ms, allowed: 2000/minute` (any duration of
    /// ``DurationText``, e.g. `1m30s`).
    public static func hint(inMessage message: String?) -> Duration? {
        guard let message = message?.lowercased(), let range = message.range(of: "retry-after:") else { return nil }
        let rest = message[range.upperBound...].drop(while: { $0 == " " })
        let token = rest.prefix(while: { $0.isNumber || $0 == "." || $0.isLetter || $0 == "µ" })
        return DurationText.parse(String(token))
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
