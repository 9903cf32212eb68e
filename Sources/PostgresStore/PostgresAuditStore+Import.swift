import AuditStore
import Foundation
import PostgresNIO

extension PostgresAuditStore {
    /// Writes `dump` into this database, which must hold no audit log yet, in one transaction under the ledger lock:
    /// rows and ledger entries keep their ids and hashes, so the chain verifies as it did in the source. The state
    /// projection is the source's (it outlives pruned runs), not the one the trigger builds from the copied rows.
    public func importLog(_ dump: AuditDump) async throws(AuditStoreError) {
        let location = self.location
        try await write { connection, ledger in
            try await ledger.lock()
            let present = try await connection.rows(
                "SELECT (SELECT count(*) FROM runs) + (SELECT count(*) FROM ledger) + (SELECT count(*) FROM pruned_runs)",
                logger: ledger.logger).first?.int(0) ?? 0
            guard present == 0 else {
                throw AuditStoreError(.engine(code: "not empty"), path: location,
                                      message: "it already holds an audit log; copy into an empty database")
            }
            let tables = Dictionary(dump.tables.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            for name in AuditDump.tableOrder {
                guard let table = tables[name] else { continue }
                if name == "item_state" { _ = try await connection.rows("DELETE FROM item_state", logger: ledger.logger) }
                try await Self.insert(table, connection, ledger)
            }
            for name in AuditDump.identityTables {
                _ = try await connection.rows("""
                    SELECT setval(pg_get_serial_sequence('\(name)', 'id'), coalesce(max(id), 0) + 1, false) FROM \(name)
                    """, logger: ledger.logger)
            }
        }
    }

    /// Multi-row inserts of at most 60,000 parameters each.
    private static func insert(_ table: AuditDump.Table, _ connection: PostgresConnection, _ ledger: PostgresLedger) async throws {
        guard !table.columns.isEmpty else { return }
        let perStatement = max(1, 60_000 / table.columns.count)
        var start = 0
        while start < table.rows.count {
            let batch = table.rows[start..<min(start + perStatement, table.rows.count)]
            var statement = SQLStatement("INSERT INTO \(table.name) (\(table.columns.map(quoted).joined(separator: ", "))) VALUES ")
            var tuples: [String] = []
            for row in batch {
                tuples.append("(" + row.map { statement.bind(.value($0)) }.joined(separator: ", ") + ")")
            }
            statement.sql += tuples.joined(separator: ", ")
            _ = try await connection.rows(statement, logger: ledger.logger)
            start += perStatement
        }
    }
}
