import AuditStore
import Foundation
import Timekeeping

/// Renders a run summary for people (table) and scripts (JSON).
public enum SummaryText {
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
            ("attempts", "\(s.attemptsTotal) (\(s.attemptsFailed) failed, \(s.retries) retries)"),
            ("failed by", classes(s.jobsByErrorClass)),
            ("attempts by", classes(s.attemptsByErrorClass)),
            ("rate limited", "\(s.rateLimitPauses) pauses, \(seconds(s.rateLimitWaitMs)) waited"),
            ("retry waits", seconds(s.retryWaitMs)),
            ("requests", "\(s.requests) (\(s.bytesSent) bytes sent)"),
            ("blob bytes", "\(s.bytesUploaded) uploaded, \(s.bytesMounted) saved by mounts or already present"),
            ("latency", [s.attemptLatencyP50Ms, s.attemptLatencyP95Ms, s.attemptLatencyMaxMs].contains(nil) ? "-"
                : "p50 \(s.attemptLatencyP50Ms!) ms, p95 \(s.attemptLatencyP95Ms!) ms, max \(s.attemptLatencyMaxMs!) ms"),
            ("wall time", s.wallMs.map(seconds) ?? "-"),
            ("audit writes", s.auditWriteMs.map { ms in
                seconds(ms) + (s.wallMs.map { $0 > 0 ? String(format: " (%.1f%% of wall)", Double(ms) * 100 / Double($0)) : "" } ?? "")
                    + (s.auditCPUMs.map { ", \(seconds($0)) CPU" } ?? "")
            } ?? "-"),
            ("ledger head", s.ledgerRunHead.map { String($0.prefix(16)) + "…" } ?? "-"),
        ]
        return rows.map { "\($0.0.padding(toLength: 14, withPad: " ", startingAt: 0)) \($0.1)" }
            .joined(separator: "\n")
    }

    /// One header row of the JSON keys and one row of values (maps as `key=value` pairs joined by `;`).
    public static func csv(_ s: RunSummary) -> String {
        guard let data = try? JSONEncoder().encode(s),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return "" }
        let keys = object.keys.sorted()
        func field(_ value: Any) -> String {
            let text: String = switch value {
            case is NSNull: ""
            case let map as [String: Any]: map.keys.sorted().map { "\($0)=\(map[$0]!)" }.joined(separator: ";")
            default: "\(value)"
            }
            return ReportTable.csvField(text)
        }
        return keys.joined(separator: ",") + "\r\n" + keys.map { field(object[$0]!) }.joined(separator: ",") + "\r\n"
    }

    static func classes(_ counts: [String: Int]) -> String {
        counts.isEmpty ? "-" : counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    static func seconds(_ milliseconds: Int) -> String {
        DurationText.short(milliseconds: milliseconds)
    }

    /// The stable JSON contract: keys are added over time, never renamed.
    public static func json(_ s: RunSummary) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(s), as: UTF8.self)
    }
}
