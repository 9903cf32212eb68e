/// One thing `audit verify` found wrong.
public struct LedgerProblem: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// A ledger entry's hash does not follow from its content and the entry before it.
        case entryAltered = "entry_altered"
        /// Ledger entries are missing (a gap in the ids, or the start removed without an anchor).
        case entriesMissing = "entries_missing"
        /// An audit row differs from what the ledger recorded for it.
        case rowAltered = "row_altered"
        /// An audit row has no ledger entry: it was inserted outside Stevedore.
        case rowInserted = "row_inserted"
        /// The ledger recorded a row that is gone, and its run was not pruned.
        case rowDeleted = "row_deleted"
        /// The state projection disagrees with the item result it names.
        case stateMismatch = "state_mismatch"
        /// The head given with `--expect-head` is not in the chain.
        case headNotFound = "head_not_found"
        /// An entry names an encoding this binary does not know (written by a newer stevedore).
        case unknownEncoding = "unknown_encoding"
    }

    public var kind: Kind
    public var table: String?
    public var rowID: Int64?
    public var ledgerID: Int64?
    public var runID: Int64?
    public var message: String

    public init(kind: Kind, table: String? = nil, rowID: Int64? = nil, ledgerID: Int64? = nil, runID: Int64? = nil,
                message: String) {
        self.kind = kind
        self.table = table
        self.rowID = rowID
        self.ledgerID = ledgerID
        self.runID = runID
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case kind, table, rowID = "row_id", ledgerID = "ledger_id", runID = "run_id", message
    }
}

/// What `audit verify` checked and found.
public struct LedgerVerification: Sendable, Codable {
    public var entries: Int
    public var rowsChecked: Int
    public var firstEntry: Int64?
    public var head: String?
    public var anchored: Bool
    public var prunedRuns: Int
    /// Entries per encoding version (`"1"`, `"2"`).
    public var encodings: [String: Int]
    public var problems: [LedgerProblem]
    public var ok: Bool { problems.isEmpty }

    public init(entries: Int, rowsChecked: Int, firstEntry: Int64?, head: String?, anchored: Bool, prunedRuns: Int,
                encodings: [String: Int], problems: [LedgerProblem]) {
        self.entries = entries
        self.rowsChecked = rowsChecked
        self.firstEntry = firstEntry
        self.head = head
        self.anchored = anchored
        self.prunedRuns = prunedRuns
        self.encodings = encodings
        self.problems = problems
    }
}
