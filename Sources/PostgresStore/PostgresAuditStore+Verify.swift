import AuditStore
import Checksums
import Logging
import PostgresNIO

extension PostgresAuditStore {
    /// Streams the ledger and every audited row, in one snapshot, through the shared ``LedgerCheck``: the log is
    /// never held in memory, only each row's latest entry (as on the SQLite store).
    public func verifyLedger(expectHead: String?) async throws(AuditStoreError) -> LedgerVerification {
        let encodings = self.encodings, logger = self.logger
        return try await snapshot { connection in
            let pruned = Set(try await connection.rows("SELECT run_id FROM pruned_runs", logger: logger).map { $0.int(0) })
            var check = LedgerCheck(anchor: try await PostgresLedger.anchor(connection, logger: logger), pruned: pruned,
                                    encodings: encodings, expectHead: expectHead)
            for try await cells in try await connection.query("""
                SELECT id, run_id, tbl, row_id, row_sha256, hash, run_hash, encoding FROM ledger ORDER BY id
                """, logger: logger) {
                let row = PGRow(cells)
                check.entry(LedgerEntry(id: row.int(0), runID: row.int(1), table: row.text(2), rowID: row.int(3),
                                        rowSHA256: row.bytes(4), hash: row.bytes(5), runHash: row.bytes(6),
                                        encoding: Int(row.int(7))))
            }
            check.endOfEntries()
            for table in AuditedTable.allCases {
                let names = encodings.columns(of: table)
                let sql = "SELECT \(Self.runIDExpression(table)), \(names.map { "t.\(quoted($0))" }.joined(separator: ", ")) "
                    + "FROM \(table.rawValue) t \(Self.runJoin(table)) ORDER BY t.id"
                for try await cells in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) {
                    let row = PGRow(cells)
                    check.row(row.auditedRow(table, names: names, from: 1), of: table, runID: row.int(0))
                }
                check.endOfRows(of: table)
            }
            for row in try await connection.rows("""
                SELECT s.registry, s.repository, s.item FROM item_state s JOIN item_results t ON t.id = s.item_result_id
                WHERE t.digest_after IS DISTINCT FROM s.digest OR t.item <> s.item OR t.action <> s.action LIMIT 10
                """, logger: logger) {
                check.stateMismatch("\(row.text(0))/\(row.text(1)):\(row.text(2))")
            }
            return check.result()
        }
    }

    public func ledgerHead() async throws(AuditStoreError) -> String? {
        try await rows("SELECT hash FROM ledger ORDER BY id DESC LIMIT 1").first.map { Hex.lowercase($0.bytes(0)) }
    }
}
