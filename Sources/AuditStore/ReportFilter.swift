import Foundation
import Timekeeping

/// Narrows a report. Every field is optional; `nil` means no restriction.
public struct ReportFilter: Sendable, Equatable {
    /// Runs started at or after this time (ISO-8601 UTC, as stored).
    public var since: String?
    /// Runs started before this time.
    public var until: String?
    public var registry: String?
    /// Repositories under this namespace (`org` matches `org/api` and `org/team/api`).
    public var namespace: String?
    public var service: String?
    /// A run status (`report runs`) or a job status (the other reports).
    public var status: String?
    public var errorClass: String?
    public var runID: RunID?
    /// At most this many rows (the newest); `nil`: all.
    public var limit: Int?

    public init(since: String? = nil, until: String? = nil, registry: String? = nil, namespace: String? = nil,
                service: String? = nil, status: String? = nil, errorClass: String? = nil, runID: RunID? = nil,
                limit: Int? = nil) {
        self.since = since
        self.until = until
        self.registry = registry
        self.namespace = namespace
        self.service = service
        self.status = status
        self.errorClass = errorClass
        self.runID = runID
        self.limit = limit
    }

    /// Turns `2026-11-01`, `2026-11-01T12:00`, `2026-11-01T12:00:00Z`, or an age like `7d`, `12h`, `1h30m`
    /// (before `now`, in ``DurationText``'s grammar) into the stored timestamp form. `nil` if it is none of these.
    public static func timestamp(_ text: String, now: Date = Date()) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.last.map({ $0.isLetter }) == true, let age = DurationText.parse(trimmed) {
            return Timestamp.string(now.addingTimeInterval(-age.seconds))
        }
        var candidate = trimmed.replacingOccurrences(of: " ", with: "T")
        if candidate.hasSuffix("Z") { candidate.removeLast() }
        switch candidate.count {
        case 10: candidate += "T00:00:00"
        case 16: candidate += ":00"
        default: break
        }
        if candidate.count == 19 { candidate += ".000" }
        guard let date = Timestamp.date(candidate + "Z") else { return nil }
        return Timestamp.string(date)
    }
}
