/// A column value as the ledger encodes it: the storage classes SQL engines agree on.
public enum LedgerValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// One audited row: its table and its values by column name.
public struct AuditedRow: Sendable, Equatable {
    public var table: AuditedTable
    public var values: [String: LedgerValue]

    public init(table: AuditedTable, values: [String: LedgerValue]) {
        self.table = table
        self.values = values
    }

    public subscript(_ column: String) -> LedgerValue { values[column] ?? .null }

    /// The row's id (every audited table has an integer `id`).
    public var id: Int64 {
        if case .integer(let id) = self["id"] { return id }
        return 0
    }
}

/// The tables whose every row written or changed gets a ledger entry, with their columns per encoding.
public enum AuditedTable: String, CaseIterable, Sendable {
    case runs
    case jobs
    case attempts
    case itemResults = "item_results"
    case runResumptions = "run_resumptions"
    case limiterPauses = "limiter_pauses"
    case prunedRuns = "pruned_runs"
    case jobManifests = "job_manifests"
    case blobActions = "blob_actions"

    /// The names its rows' ledger entries carry: item results were chained as `tag_results` before the
    /// schema became artifact-neutral (migration 0004, encoding 1).
    public var ledgerNames: [String] {
        self == .itemResults ? [rawValue, "tag_results"] : [rawValue]
    }

    /// The table an entry's `tbl` names, old names included.
    public init?(ledgerName: String) {
        if ledgerName == "tag_results" { self = .itemResults; return }
        self.init(rawValue: ledgerName)
    }
}
