import Checksums
import Foundation

/// How an audited row becomes the bytes its ledger entry hashes. Every ledger entry stores the version it was
/// written with, and `audit verify` re-encodes the row with that version, so a migration that adds a column
/// (which brings a new version listing it) keeps old rows verifying and protects the new column from then on.
///
/// - Version 1: the text of SQLite's `json_array(...)` over the columns of schema 0003, in order (the only
///   encoding before versions were stored). Reproduced here byte for byte, so any backend can verify it.
/// - Version 2 and later: a self-describing binary form any backend produces from typed values:
///   `"stevedore-row/VERSION" 0x00 table 0x00` then, per column of the version's list, `name 0x00 tag value` with tag
///   `N` (null), `I` + 8-byte big-endian integer, `R` + 8-byte big-endian IEEE 754 bits, `T` + 4-byte big-endian
///   length + UTF-8, `B` + 4-byte length + bytes.
public struct LedgerEncoding: Sendable, Equatable {
    public let version: Int
    /// The columns this version covers, per table, in order.
    public let columns: [AuditedTable: [String]]

    public init(version: Int, columns: [AuditedTable: [String]]) {
        self.version = version
        self.columns = columns
    }

    /// The columns this version covers for `table`, in order (none: the table is not audited in this version).
    public func columns(of table: AuditedTable) -> [String] { columns[table] ?? [] }

    /// The canonical bytes of `row` in this version.
    public func canonicalBytes(_ row: AuditedRow) -> [UInt8] {
        version == 1 ? LegacyJSON.array(columns(of: row.table).map { Self.legacyValue(row, $0) })
            : Self.binary(row, version: version, columns: columns(of: row.table))
    }

    /// sha256 of the canonical bytes.
    public func rowSHA256(_ row: AuditedRow) -> [UInt8] {
        ContentHasher.sha256(canonicalBytes(row))
    }

    /// Schema 0003's columns, hashed as SQLite's json_array text.
    public static let v1 = LedgerEncoding(version: 1, columns: [
        .runs: runColumns,
        .jobs: ["id", "run_id", "seq", "service", "registry", "repository", "items", "status", "attempts", "error_class",
                "error_message", "digest", "started_at", "finished_at", "duration_ms"],
        .attempts: attemptColumns,
        .itemResults: ["id", "job_id", "item", "action", "digest_before", "digest_after", "recorded_at"],
        .runResumptions: resumptionColumns,
        .limiterPauses: pauseColumns,
        .prunedRuns: prunedColumns,
    ])

    /// Schema 0004: jobs of any kind, item results.
    public static let v2 = LedgerEncoding(version: 2, columns: [
        .runs: runColumns,
        .jobs: ["id", "run_id", "seq", "kind", "service", "registry", "repository", "target", "items", "status", "attempts",
                "error_class", "error_message", "digest", "started_at", "finished_at", "duration_ms"],
        .attempts: attemptColumns,
        .itemResults: ["id", "job_id", "item", "action", "digest_before", "digest_after", "size", "detail", "recorded_at"],
        .runResumptions: resumptionColumns,
        .limiterPauses: pauseColumns,
        .prunedRuns: prunedColumns,
    ])

    /// Schema 0005: image sources, manifests pushed, blob actions.
    public static let v3 = LedgerEncoding(version: 3, columns: v2.columns.merging([
        .jobs: v2.columns(of: .jobs) + ["source", "source_digest"],
        .jobManifests: ["id", "job_id", "digest", "media_type", "platform", "tags", "size", "recorded_at"],
        .blobActions: ["id", "attempt_id", "job_id", "digest", "size", "media_type", "action", "bytes_sent", "duration_ms",
                       "recorded_at"],
    ]) { _, new in new })

    static let runColumns = ["id", "command", "command_line", "tool_version", "host", "user", "input_file", "input_sha256",
                             "registry", "namespace", "options", "status", "started_at", "finished_at", "parent_run_id",
                             "pid", "audit_write_ms", "audit_cpu_ms"]
    static let attemptColumns = ["id", "job_id", "number", "started_at", "duration_ms", "outcome", "http_status",
                                 "error_code", "error_class", "message", "requests", "bytes_sent", "wait_ms", "wait_reason"]
    static let resumptionColumns = ["id", "run_id", "resumed_at", "command_line", "pid", "prior_status"]
    static let pauseColumns = ["id", "run_id", "registry", "paused_at", "duration_ms", "rate_after", "reason"]
    static let prunedColumns = ["id", "run_id", "started_at", "status", "jobs", "attempts", "run_head", "pruned_at"]

    /// Version 1 hashed `hex(run_head)` of pruned runs: uppercase hex text, empty for NULL (SQLite's `hex()`).
    private static func legacyValue(_ row: AuditedRow, _ column: String) -> LedgerValue {
        guard row.table == .prunedRuns, column == "run_head" else { return row[column] }
        if case .blob(let bytes) = row[column] { return .text(Hex.lowercase(bytes).uppercased()) }
        return .text("")
    }

    private static func binary(_ row: AuditedRow, version: Int, columns: [String]) -> [UInt8] {
        var out: [UInt8] = Array("stevedore-row/\(version)".utf8) + [0] + Array(row.table.rawValue.utf8) + [0]
        out.reserveCapacity(256)
        for column in columns {
            out += Array(column.utf8)
            out.append(0)
            switch row[column] {
            case .null:
                out.append(UInt8(ascii: "N"))
            case .integer(let value):
                out.append(UInt8(ascii: "I"))
                appendBigEndian(UInt64(bitPattern: value), bytes: 8, to: &out)
            case .real(let value):
                out.append(UInt8(ascii: "R"))
                appendBigEndian(value.bitPattern, bytes: 8, to: &out)
            case .text(let text):
                out.append(UInt8(ascii: "T"))
                appendBigEndian(UInt64(text.utf8.count), bytes: 4, to: &out)
                out += Array(text.utf8)
            case .blob(let bytes):
                out.append(UInt8(ascii: "B"))
                appendBigEndian(UInt64(bytes.count), bytes: 4, to: &out)
                out += bytes
            }
        }
        return out
    }

    static func appendBigEndian(_ value: UInt64, bytes: Int, to out: inout [UInt8]) {
        for shift in stride(from: (bytes - 1) * 8, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}

/// The encodings a store knows; new entries use the newest. A migration that adds an audited column adds a version.
public struct LedgerEncodings: Sendable {
    public let all: [Int: LedgerEncoding]
    public let current: LedgerEncoding

    public init(_ encodings: [LedgerEncoding]) {
        all = Dictionary(uniqueKeysWithValues: encodings.map { ($0.version, $0) })
        current = encodings.max { $0.version < $1.version }!
    }

    /// The versions this binary writes and reads.
    public static let builtIn = LedgerEncodings([.v1, .v2, .v3])

    public subscript(version: Int) -> LedgerEncoding? { all[version] }

    /// Every column some version covers for `table`, in the newest version's order: what a reader selects.
    public func columns(of table: AuditedTable) -> [String] {
        var names = current.columns(of: table)
        for encoding in all.values.sorted(by: { $0.version > $1.version }) {
            for column in encoding.columns(of: table) where !names.contains(column) { names.append(column) }
        }
        return names
    }
}

/// The text SQLite's `json_array()` produced for encoding 1, reproduced: integers in decimal, reals as
/// `%!.15g` (always with a decimal point), text as a JSON string with SQLite's escapes, NULL as `null`.
enum LegacyJSON {
    static func array(_ values: [LedgerValue]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (index, value) in values.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            switch value {
            case .null: out += Array("null".utf8)
            case .integer(let number): out += Array(String(number).utf8)
            case .real(let number): out += Array(real(number).utf8)
            case .text(let text): string(text, into: &out)
            case .blob(let bytes): string(String(decoding: bytes, as: UTF8.self), into: &out)
            }
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// SQLite's `%!.15g`: 15 significant digits, trailing zeros dropped, but always a digit after the point.
    static func real(_ value: Double) -> String {
        if value.isNaN { return "null" }
        if value.isInfinite { return value < 0 ? "-9.0e+999" : "9.0e+999" }
        var text = String(format: "%.15g", value)
        if let e = text.firstIndex(of: "e") {
            if !text[..<e].contains(".") { text.insert(contentsOf: ".0", at: e) }
        } else if !text.contains(".") {
            text += ".0"
        }
        return text
    }

    static func string(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out += [UInt8(ascii: "\\"), byte]
            case 0x08: out += Array("\\b".utf8)
            case 0x09: out += Array("\\t".utf8)
            case 0x0a: out += Array("\\n".utf8)
            case 0x0c: out += Array("\\f".utf8)
            case 0x0d: out += Array("\\r".utf8)
            case 0x00...0x1f:
                out += Array("\\u00".utf8)
                out.append(UInt8(ascii: "0") + (byte >> 4))
                out.append(Array("0123456789abcdef".utf8)[Int(byte & 0x0f)])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
