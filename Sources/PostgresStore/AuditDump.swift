import AuditStore

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
