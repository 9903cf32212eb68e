import AuditStore
import Checksums
import Foundation

extension SQLiteAuditStore {
    public func verifyLedger(expectHead: String?) async throws(AuditStoreError) -> LedgerVerification {
        let encodings = self.encodings
        return try await read { connection throws(AuditStoreError) in
            try LedgerVerifier.verify(SQLiteLedgerSource(connection: connection, encodings: encodings),
                                      encodings: encodings, expectHead: expectHead)
        }
    }

    public func ledgerHead() async throws(AuditStoreError) -> String? {
        try await read { connection throws(AuditStoreError) in
            try connection.query("SELECT hash FROM ledger ORDER BY id DESC LIMIT 1") { Hex.lowercase($0.blob(0)) }.first
        }
    }
}

/// The SQLite side of `audit verify`: the ledger and the audited tables, read in id order.
struct SQLiteLedgerSource: LedgerSource {
    let connection: Connection
    let encodings: LedgerEncodings

    func anchor() throws(AuditStoreError) -> LedgerAnchor? {
        try LedgerWriter.anchor(connection)
    }

    func prunedRunIDs() throws(AuditStoreError) -> Set<Int64> {
        try Set(connection.query("SELECT run_id FROM pruned_runs") { $0.int(0) })
    }

    func forEachEntry(_ body: (LedgerEntry) throws(AuditStoreError) -> Void) throws(AuditStoreError) {
        try connection.each("""
            SELECT id, run_id, tbl, row_id, row_sha256, hash, run_hash, encoding FROM ledger ORDER BY id
            """) { row throws(AuditStoreError) in
            try body(LedgerEntry(id: row.int(0), runID: row.int(1), table: row.text(2), rowID: row.int(3),
                                 rowSHA256: [UInt8](row.blob(4)), hash: [UInt8](row.blob(5)), runHash: [UInt8](row.blob(6)),
                                 encoding: Int(row.int(7))))
        }
    }

    func forEachRow(of table: AuditedTable, _ body: (AuditedRow, Int64) throws(AuditStoreError) -> Void) throws(AuditStoreError) {
        let names = encodings.columns(of: table)
        let sql = "SELECT \(SQLiteAuditStore.runIDExpression(table)), \(names.map { "t.\($0)" }.joined(separator: ", ")) "
            + "FROM \(table.rawValue) t \(SQLiteAuditStore.runJoin(table)) ORDER BY t.id"
        try connection.each(sql) { row throws(AuditStoreError) in
            try body(row.auditedRow(table, names: names, from: 1), row.int(0))
        }
    }

    func stateMismatches() throws(AuditStoreError) -> [String] {
        try connection.query("""
            SELECT s.registry, s.repository, s.item FROM item_state s JOIN item_results t ON t.id = s.item_result_id
            WHERE t.digest_after IS NOT s.digest OR t.item <> s.item OR t.action <> s.action LIMIT 10
            """) { "\($0.text(0))/\($0.text(1)):\($0.text(2))" }
    }
}
