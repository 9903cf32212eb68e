import AuditStore
import Foundation
import PostgresNIO

/// A whole audit log as rows of its tables, column names as in both schemas: what `audit copy` reads from one store
/// and writes into another, ids, hashes and ledger entries as they are.
public struct AuditDump: Sendable {
    /// One table's rows, every row with a value per column.
    public struct Table: Sendable {
        public var name: String
        public var columns: [String]
        public var rows: [[LedgerValue]]

        public init(name: String, columns: [String], rows: [[LedgerValue]]) {
            self.name = name
            self.columns = columns
            self.rows = rows
        }
    }

    public var tables: [Table]

    public init(tables: [Table]) { self.tables = tables }

    /// The tables a dump holds, in an order that satisfies every foreign key.
    public static let tableOrder = ["runs", "jobs", "attempts", "item_results", "job_manifests", "blob_actions",
                                    "run_resumptions", "limiter_pauses", "pruned_runs", "item_state", "ledger",
                                    "ledger_anchor"]

    /// The tables whose `id` is an identity column, to move past the copied ids.
    static let identityTables = ["runs", "jobs", "attempts", "item_results", "job_manifests", "blob_actions",
                                 "run_resumptions", "limiter_pauses", "pruned_runs"]

    public var rowCount: Int { tables.reduce(0) { $0 + $1.rows.count } }
}

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
