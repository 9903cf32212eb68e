import AuditStore
import Checksums
import Logging
import PostgresNIO

extension PostgresAuditStore {
    /// Reads the ledger and every audited row in one snapshot, then checks them with the shared ``LedgerVerifier``.
    /// The whole log is held in memory while it is checked.
    public func verifyLedger(expectHead: String?) async throws(AuditStoreError) -> LedgerVerification {
        let encodings = self.encodings, logger = self.logger
        let source = try await snapshot { connection in
            try await LoadedLedger.load(connection, encodings: encodings, logger: logger)
        }
        return try LedgerVerifier.verify(source, encodings: encodings, expectHead: expectHead)
    }

    public func ledgerHead() async throws(AuditStoreError) -> String? {
        try await rows("SELECT hash FROM ledger ORDER BY id DESC LIMIT 1").first.map { Hex.lowercase($0.bytes(0)) }
    }
}

/// The ledger and the audited tables as read in one snapshot: what `audit verify` checks, and what
/// `audit copy` writes.
public struct LoadedLedger: LedgerSource, Sendable {
    public var anchorEntry: LedgerAnchor?
    public var pruned: Set<Int64>
    public var entries: [LedgerEntry]
    public var rows: [AuditedTable: [(row: AuditedRow, runID: Int64)]]
    public var mismatches: [String]

    static func load(_ connection: PostgresConnection, encodings: LedgerEncodings, logger: Logger) async throws -> LoadedLedger {
        let anchor = try await PostgresLedger.anchor(connection, logger: logger)
        let pruned = Set(try await connection.rows("SELECT run_id FROM pruned_runs", logger: logger).map { $0.int(0) })
        let entries = try await connection.rows("""
            SELECT id, run_id, tbl, row_id, row_sha256, hash, run_hash, encoding FROM ledger ORDER BY id
            """, logger: logger).map { row in
            LedgerEntry(id: row.int(0), runID: row.int(1), table: row.text(2), rowID: row.int(3), rowSHA256: row.bytes(4),
                        hash: row.bytes(5), runHash: row.bytes(6), encoding: Int(row.int(7)))
        }
        var rows: [AuditedTable: [(row: AuditedRow, runID: Int64)]] = [:]
        for table in AuditedTable.allCases {
            let names = encodings.columns(of: table)
            let sql = "SELECT \(PostgresAuditStore.runIDExpression(table)), \(names.map { "t.\(quoted($0))" }.joined(separator: ", ")) "
                + "FROM \(table.rawValue) t \(PostgresAuditStore.runJoin(table)) ORDER BY t.id"
            rows[table] = try await connection.rows(sql, logger: logger).map { ($0.auditedRow(table, names: names, from: 1), $0.int(0)) }
        }
        let mismatches = try await connection.rows("""
            SELECT s.registry, s.repository, s.item FROM item_state s JOIN item_results t ON t.id = s.item_result_id
            WHERE t.digest_after IS DISTINCT FROM s.digest OR t.item <> s.item OR t.action <> s.action LIMIT 10
            """, logger: logger).map { "\($0.text(0))/\($0.text(1)):\($0.text(2))" }
        return LoadedLedger(anchorEntry: anchor, pruned: pruned, entries: entries, rows: rows, mismatches: mismatches)
    }

    public func anchor() throws(AuditStoreError) -> LedgerAnchor? { anchorEntry }
    public func prunedRunIDs() throws(AuditStoreError) -> Set<Int64> { pruned }

    public func forEachEntry(_ body: (LedgerEntry) throws(AuditStoreError) -> Void) throws(AuditStoreError) {
        for entry in entries { try body(entry) }
    }

    public func forEachRow(of table: AuditedTable, _ body: (AuditedRow, Int64) throws(AuditStoreError) -> Void) throws(AuditStoreError) {
        for (row, runID) in rows[table] ?? [] { try body(row, runID) }
    }

    public func stateMismatches() throws(AuditStoreError) -> [String] { mismatches }
}
