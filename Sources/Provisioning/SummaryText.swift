import AuditStore
import Foundation

/// Renders a run summary for people (table) and scripts (JSON).
public enum SummaryText {
    /// `run 7 succeeded: 15 jobs (15 succeeded, 0 skipped, 0 failed), 30 tags pushed, 15 attempts`.
    public static func oneLine(_ s: RunSummary) -> String {
        var text = "run \(s.runID) \(s.status.rawValue): \(s.jobsTotal) jobs (\(s.jobsSucceeded) succeeded, "
            + "\(s.jobsSkipped) skipped, \(s.jobsFailed) failed"
        if s.jobsCancelled > 0 { text += ", \(s.jobsCancelled) cancelled" }
        if s.jobsPending > 0 { text += ", \(s.jobsPending) unfinished" }
        text += "), \(s.tagsPushed) tags pushed, \(s.tagsSkipped) skipped"
        if s.tagsKept > 0 { text += ", \(s.tagsKept) kept" }
        text += ", \(s.attemptsTotal) attempts"
        return text
    }

    /// A two-column table that fits 80 columns.
    public static func table(_ s: RunSummary) -> String {
        let rows: [(String, String)] = [
            ("run", "\(s.runID) (\(s.command))"),
            ("status", s.status.rawValue),
            ("started", s.startedAt),
            ("finished", s.finishedAt ?? "-"),
            ("input", s.inputFile ?? "-"),
            ("registry", [s.registry, s.namespace].compactMap { $0 }.joined(separator: "/")),
            ("jobs", "\(s.jobsTotal)"),
            ("  succeeded", "\(s.jobsSucceeded)"),
            ("  skipped", "\(s.jobsSkipped)"),
            ("  failed", "\(s.jobsFailed)"),
            ("  cancelled", "\(s.jobsCancelled)"),
            ("  unfinished", "\(s.jobsPending)"),
            ("tags pushed", "\(s.tagsPushed)"),
            ("tags skipped", "\(s.tagsSkipped)"),
            ("tags kept", "\(s.tagsKept)"),
            ("attempts", "\(s.attemptsTotal) (\(s.attemptsFailed) failed)"),
        ]
        return rows.map { "\($0.0.padding(toLength: 14, withPad: " ", startingAt: 0)) \($0.1)" }
            .joined(separator: "\n")
    }

    /// The stable JSON contract: keys are added over time, never renamed.
    public static func json(_ s: RunSummary) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(s), as: UTF8.self)
    }
}
