import Crypto
import Foundation

/// The audit tables the ledger covers, and how each row is read in its canonical form.
///
/// A row's canonical form is SQLite's `json_array(...)` of its columns in a fixed order: the same SQL
/// produces it when the row is written and when `audit verify` reads it back, so any change to a
/// column changes the row's sha256.
enum LedgerTable: String, CaseIterable, Sendable {
    case runs
    case jobs
    case attempts
    case tagResults = "tag_results"
    case runResumptions = "run_resumptions"
    case limiterPauses = "limiter_pauses"
    case prunedRuns = "pruned_runs"

    /// `SELECT row id, run id, canonical JSON FROM ...`; add a `WHERE`/`ORDER BY` on ``idColumn``.
    var rowsSQL: String {
        switch self {
        case .runs:
            """
            SELECT id, id, json_array(id, command, command_line, tool_version, host, user, input_file, input_sha256,
                registry, namespace, options, status, started_at, finished_at, parent_run_id, pid, audit_write_ms,
                audit_cpu_ms)
            FROM runs
            """
        case .jobs:
            """
            SELECT id, run_id, json_array(id, run_id, seq, service, registry, repository, tags, status, attempts,
                error_class, error_message, digest, started_at, finished_at, duration_ms)
            FROM jobs
            """
        case .attempts:
            """
            SELECT a.id, coalesce(j.run_id, 0), json_array(a.id, a.job_id, a.number, a.started_at, a.duration_ms,
                a.outcome, a.http_status, a.error_code, a.error_class, a.message, a.requests, a.bytes_sent, a.wait_ms,
                a.wait_reason)
            FROM attempts a LEFT JOIN jobs j ON j.id = a.job_id
            """
        case .tagResults:
            """
            SELECT t.id, coalesce(j.run_id, 0), json_array(t.id, t.job_id, t.tag, t.action, t.digest_before,
                t.digest_after, t.recorded_at)
            FROM tag_results t LEFT JOIN jobs j ON j.id = t.job_id
            """
        case .runResumptions:
            "SELECT id, run_id, json_array(id, run_id, resumed_at, command_line, pid, prior_status) FROM run_resumptions"
        case .limiterPauses:
            """
            SELECT id, run_id, json_array(id, run_id, registry, paused_at, duration_ms, rate_after, reason)
            FROM limiter_pauses
            """
        case .prunedRuns:
            """
            SELECT id, 0, json_array(id, run_id, started_at, status, jobs, attempts, hex(run_head), pruned_at)
            FROM pruned_runs
            """
        }
    }

    /// The row id column in ``rowsSQL``.
    var idColumn: String {
        switch self {
        case .attempts: "a.id"
        case .tagResults: "t.id"
        default: "id"
        }
    }
}

/// Appends ledger entries; used inside the write transaction of the row it records.
///
/// One instance lives for one transaction: it remembers the head and the runs' last hashes it has read or
/// written, which stay valid because `BEGIN IMMEDIATE` keeps every other writer out until the commit.
/// See `migrations/0003_reports_and_ledger.sql` for the hashes and docs/SCHEMA.md for what they protect.
final class Ledger {
    let connection: Connection
    private var cachedHead: (id: Int64, hash: Data)?
    private var cachedRunHashes: [Int64: Data] = [:]

    init(connection: Connection) {
        self.connection = connection
    }

    static let zeroHash = Data(repeating: 0, count: 32)
    /// The migration that creates the ledger (`0003_reports_and_ledger.sql`).
    static let migrationVersion = 3

    /// Records the current content of `table` row `rowID`. Does nothing if the row does not exist.
    func append(_ table: LedgerTable, rowID: Int64, at: String) throws(AuditStoreError) {
        let rows = try connection.query(table.rowsSQL + " WHERE \(table.idColumn) = ?", [.int(rowID)]) {
            ($0.int(1), $0.text(2))
        }
        guard let (runID, json) = rows.first else { return }
        try append(table, rowID: rowID, runID: runID, rowSHA256: Self.sha256(json), at: at)
    }

    /// Records many rows; contiguous ids are read in one query.
    func append(_ table: LedgerTable, rowIDs: [Int64], at: String) throws(AuditStoreError) {
        guard let first = rowIDs.first, let last = rowIDs.last else { return }
        guard rowIDs.count > 1, last - first + 1 == Int64(rowIDs.count) else {
            for id in rowIDs { try append(table, rowID: id, at: at) }
            return
        }
        let rows = try connection.query(table.rowsSQL + " WHERE \(table.idColumn) BETWEEN ? AND ? ORDER BY \(table.idColumn)",
                                        [.int(first), .int(last)]) { ($0.int(0), $0.int(1), $0.text(2)) }
        for (rowID, runID, json) in rows {
            try append(table, rowID: rowID, runID: runID, rowSHA256: Self.sha256(json), at: at)
        }
    }

    private func append(_ table: LedgerTable, rowID: Int64, runID: Int64, rowSHA256: Data,
                        at: String) throws(AuditStoreError) {
        let (previousID, previousHash): (Int64, Data)
        if let cachedHead { (previousID, previousHash) = cachedHead } else { (previousID, previousHash) = try head() }
        let runPrevious: Data
        if let cached = cachedRunHashes[runID] {
            runPrevious = cached
        } else {
            runPrevious = try connection.query(
                "SELECT run_hash FROM ledger WHERE run_id = ? ORDER BY id DESC LIMIT 1", [.int(runID)]) { $0.blob(0) }
                .first ?? Self.zeroHash
        }
        let id = previousID + 1
        let entry = Self.entryDigest(id: id, runID: runID, table: table.rawValue, rowID: rowID, rowSHA256: rowSHA256)
        let hash = Self.chain(previousHash, entry), runHash = Self.chain(runPrevious, entry)
        try connection.run("""
            INSERT INTO ledger (id, run_id, tbl, row_id, row_sha256, hash, run_hash, written_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [.int(id), .int(runID), .text(table.rawValue), .int(rowID), .blob(rowSHA256), .blob(hash),
                  .blob(runHash), .text(at)])
        cachedHead = (id, hash)
        cachedRunHashes[runID] = runHash
    }

    /// Forgets what it remembered (the transaction was rolled back, or the ledger was cut).
    func forget() {
        cachedHead = nil
        cachedRunHashes = [:]
    }

    /// The id and hash of the newest entry; the anchor (after a prune) or zero for an empty ledger.
    func head() throws(AuditStoreError) -> (id: Int64, hash: Data) {
        if let last = try connection.query("SELECT id, hash FROM ledger ORDER BY id DESC LIMIT 1", [], {
            ($0.int(0), $0.blob(1))
        }).first {
            return last
        }
        if let anchor = try anchor() { return (anchor.firstID - 1, anchor.previousHash) }
        return (0, Self.zeroHash)
    }

    func anchor() throws(AuditStoreError) -> (firstID: Int64, previousHash: Data)? {
        try connection.query("SELECT first_id, prev_hash FROM ledger_anchor ORDER BY rowid DESC LIMIT 1") {
            ($0.int(0), $0.blob(1))
        }.first
    }

    /// Chains every row written before the ledger existed (databases from before migration 3).
    func adoptUnchainedRows(at: String) throws(AuditStoreError) {
        let empty = try connection.query("SELECT NOT EXISTS (SELECT 1 FROM ledger) AND NOT EXISTS (SELECT 1 FROM ledger_anchor)") {
            $0.int(0) == 1
        }.first ?? false
        guard empty else { return }
        try connection.transaction { () throws(AuditStoreError) in
            for table in LedgerTable.allCases {
                let rows = try connection.query(table.rowsSQL + " ORDER BY \(table.idColumn)") {
                    ($0.int(0), $0.int(1), $0.text(2))
                }
                for (rowID, runID, json) in rows {
                    try append(table, rowID: rowID, runID: runID, rowSHA256: Self.sha256(json), at: at)
                }
            }
        }
    }

    // MARK: Hashes

    static func sha256(_ text: String) -> Data { Data(SHA256.hash(data: Data(text.utf8))) }

    /// sha256(id ‖ run_id ‖ table ‖ 0x00 ‖ row_id ‖ row_sha256), integers as 8 bytes big-endian.
    static func entryDigest(id: Int64, runID: Int64, table: String, rowID: Int64, rowSHA256: Data) -> Data {
        var bytes = Data()
        bytes.reserveCapacity(64 + table.utf8.count)
        append(id, to: &bytes)
        append(runID, to: &bytes)
        bytes.append(contentsOf: Array(table.utf8))
        bytes.append(0)
        append(rowID, to: &bytes)
        bytes.append(rowSHA256)
        return Data(SHA256.hash(data: bytes))
    }

    /// sha256(previous ‖ entry).
    static func chain(_ previous: Data, _ entry: Data) -> Data {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: entry)
        return Data(hasher.finalize())
    }

    private static func append(_ value: Int64, to bytes: inout Data) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}

extension Data {
    /// Lowercase hex.
    var hexString: String { map { String(format: "%02x", $0) }.joined() }
}
