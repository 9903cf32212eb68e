import Foundation

/// How `doctor` prints its checks: one line each, `ok`/`warn`/`FAIL`/`info`, the check, its subject and the finding;
/// a failure or warning carries its remedy after `->` on the same line. JSON: `{"ok": Bool, "checks": [...]}`.
public enum DoctorReport {
    public static func text(_ checks: [DoctorCheck]) -> String {
        let checkWidth = checks.map(\.check.count).max() ?? 0
        let subjectWidth = min(checks.map(\.subject.count).max() ?? 0, 40)
        var lines = checks.map { check in
            let mark = switch check.outcome {
            case .pass: "ok  "
            case .warn: "warn"
            case .fail: "FAIL"
            case .info: "info"
            }
            var line = "\(mark)  \(pad(check.check, checkWidth))  \(pad(check.subject, subjectWidth))  \(check.detail)"
            if let remedy = check.remedy, check.outcome == .fail || check.outcome == .warn { line += " -> \(remedy)" }
            return line
        }
        let failed = checks.filter { $0.outcome == .fail }.count
        let warned = checks.filter { $0.outcome == .warn }.count
        lines.append(failed == 0
            ? "doctor: all \(checks.count) checks passed" + (warned > 0 ? " (\(warned) warnings)" : "")
            : "doctor: \(failed) of \(checks.count) checks failed")
        return lines.joined(separator: "\n")
    }

    public static func json(_ checks: [DoctorCheck]) -> String {
        struct Document: Encodable {
            let ok: Bool
            let checks: [DoctorCheck]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(Document(ok: checks.allPass, checks: checks))) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
