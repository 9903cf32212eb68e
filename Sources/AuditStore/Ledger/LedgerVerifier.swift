import Checksums

/// What a backend hands the verifier: the ledger in id order, every audited row, and the facts around them.
/// Closures are called synchronously, on the backend's own thread or connection.
public protocol LedgerSource {
    func anchor() throws(AuditStoreError) -> LedgerAnchor?
    func prunedRunIDs() throws(AuditStoreError) -> Set<Int64>
    func forEachEntry(_ body: (LedgerEntry) throws(AuditStoreError) -> Void) throws(AuditStoreError)
    /// Every row of `table` in id order, with the run it belongs to.
    func forEachRow(of table: AuditedTable, _ body: (AuditedRow, _ runID: Int64) throws(AuditStoreError) -> Void) throws(AuditStoreError)
    /// Names of state rows that disagree with the item results they name (at most ten).
    func stateMismatches() throws(AuditStoreError) -> [String]
}

/// Recomputes both chains and compares every audited row with its latest entry, the same way for every backend.
public enum LedgerVerifier {
    public static func verify(_ source: some LedgerSource, encodings: LedgerEncodings = .builtIn,
                              expectHead: String?) throws(AuditStoreError) -> LedgerVerification {
        var check = LedgerCheck(anchor: try source.anchor(), pruned: try source.prunedRunIDs(), encodings: encodings,
                                expectHead: expectHead)
        try source.forEachEntry { entry throws(AuditStoreError) in check.entry(entry) }
        check.endOfEntries()
        for table in AuditedTable.allCases {
            try source.forEachRow(of: table) { row, runID throws(AuditStoreError) in check.row(row, of: table, runID: runID) }
            check.endOfRows(of: table)
        }
        for name in try source.stateMismatches() { check.stateMismatch(name) }
        return check.result()
    }
}

/// `audit verify` fed one entry and one row at a time, in id order, by a backend that streams them: it keeps only
/// the chains' heads and each audited row's latest entry (32 bytes and a few ids per row), never the log itself.
public struct LedgerCheck: Sendable {
    private struct Latest {
        var ledgerID: Int64
        var runID: Int64
        var rowSHA256: [UInt8]
        var encoding: Int
    }

    let anchor: LedgerAnchor?
    let pruned: Set<Int64>
    let encodings: LedgerEncodings
    let expectHead: String?
    private var problems: [LedgerProblem] = []
    private var previousHash: [UInt8]
    private var expectedID: Int64
    private var runHashes: [Int64: [UInt8]] = [:]
    private var latest: [AuditedTable: [Int64: Latest]] = [:]
    private var entries = 0
    private var encodingCounts: [String: Int] = [:]
    private var firstEntry: Int64?
    private var headFound: Bool
    private var rowsChecked = 0

    public init(anchor: LedgerAnchor?, pruned: Set<Int64>, encodings: LedgerEncodings = .builtIn, expectHead: String?) {
        self.anchor = anchor
        self.pruned = pruned
        self.encodings = encodings
        self.expectHead = expectHead?.lowercased()
        previousHash = anchor?.previousHash ?? LedgerChain.zeroHash
        expectedID = anchor?.firstID ?? 1
        headFound = expectHead == nil
    }

    /// The next ledger entry, in id order.
    public mutating func entry(_ entry: LedgerEntry) {
        entries += 1
        encodingCounts[String(entry.encoding), default: 0] += 1
        if firstEntry == nil { firstEntry = entry.id }
        if entry.id != expectedID {
            let what = expectedID == entry.id - 1 ? "entry \(expectedID) is" : "entries \(expectedID)...\(entry.id - 1) are"
            problems.append(LedgerProblem(kind: .entriesMissing, ledgerID: expectedID, message: "ledger \(what) missing (deleted)"))
        }
        let digest = LedgerChain.entryDigest(id: entry.id, runID: entry.runID, table: entry.table, rowID: entry.rowID,
                                             rowSHA256: entry.rowSHA256, encoding: entry.encoding)
        if LedgerChain.chain(previousHash, digest) != entry.hash {
            problems.append(LedgerProblem(kind: .entryAltered, table: entry.table, rowID: entry.rowID, ledgerID: entry.id,
                                          runID: entry.runID,
                                          message: "ledger entry \(entry.id) (\(entry.table) row \(entry.rowID)) does not match its hash"))
        }
        // After a prune, a pruned run's chain (and the store's own, run 0) may start at an entry whose
        // predecessor was removed with the prefix; every other run starts from zero.
        let mayStartLate = anchor != nil && (entry.runID == 0 || pruned.contains(entry.runID))
        let runPrevious = runHashes[entry.runID] ?? (mayStartLate ? nil : LedgerChain.zeroHash)
        if let runPrevious, LedgerChain.chain(runPrevious, digest) != entry.runHash {
            problems.append(LedgerProblem(kind: .entryAltered, table: entry.table, rowID: entry.rowID, ledgerID: entry.id,
                                          runID: entry.runID, message: "ledger entry \(entry.id) breaks the chain of run \(entry.runID)"))
        }
        runHashes[entry.runID] = entry.runHash
        previousHash = entry.hash
        expectedID = entry.id + 1
        if !headFound, Hex.lowercase(entry.hash) == expectHead { headFound = true }
        if encodings[entry.encoding] == nil {
            problems.append(LedgerProblem(kind: .unknownEncoding, table: entry.table, rowID: entry.rowID, ledgerID: entry.id,
                                          runID: entry.runID,
                                          message: "ledger entry \(entry.id) uses encoding \(entry.encoding), unknown to this stevedore; upgrade it"))
        }
        if let table = AuditedTable(ledgerName: entry.table) {
            latest[table, default: [:]][entry.rowID] = Latest(ledgerID: entry.id, runID: entry.runID,
                                                              rowSHA256: entry.rowSHA256, encoding: entry.encoding)
        }
    }

    /// Every entry was given.
    public mutating func endOfEntries() {
        if anchor == nil, let firstEntry, firstEntry != 1 {
            problems.append(LedgerProblem(kind: .entriesMissing, ledgerID: 1,
                                          message: "ledger entries 1...\(firstEntry - 1) are missing and no prune anchor explains it"))
        }
        if !headFound, let expectHead {
            problems.append(LedgerProblem(kind: .headNotFound, message: "head \(expectHead) is not in the ledger: its end was removed or rewritten"))
        }
    }

    /// The next row of `table`, in id order, with the run it belongs to.
    public mutating func row(_ row: AuditedRow, of table: AuditedTable, runID: Int64) {
        rowsChecked += 1
        guard let entry = latest[table]?.removeValue(forKey: row.id) else {
            problems.append(LedgerProblem(kind: .rowInserted, table: table.rawValue, rowID: row.id, runID: runID,
                                          message: "\(table.rawValue) row \(row.id) is not in the ledger (inserted outside stevedore)"))
            return
        }
        guard let encoding = encodings[entry.encoding] else { return }
        if encoding.rowSHA256(row) != entry.rowSHA256 {
            problems.append(LedgerProblem(kind: .rowAltered, table: table.rawValue, rowID: row.id, ledgerID: entry.ledgerID,
                                          runID: entry.runID,
                                          message: "\(table.rawValue) row \(row.id) was altered after ledger entry \(entry.ledgerID)"))
        }
    }

    /// Every row of `table` was given: the entries left name rows deleted outside a prune.
    public mutating func endOfRows(of table: AuditedTable) {
        for (rowID, entry) in latest.removeValue(forKey: table) ?? [:] where !pruned.contains(entry.runID) {
            problems.append(LedgerProblem(kind: .rowDeleted, table: table.rawValue, rowID: rowID, ledgerID: entry.ledgerID,
                                          runID: entry.runID,
                                          message: "\(table.rawValue) row \(rowID) (run \(entry.runID)) was deleted; the ledger recorded it at entry \(entry.ledgerID)"))
        }
    }

    /// A state row that disagrees with the item result it names.
    public mutating func stateMismatch(_ name: String) {
        problems.append(LedgerProblem(kind: .stateMismatch, table: "item_state",
                                      message: "item_state for \(name) disagrees with the item result it names"))
    }

    public func result() -> LedgerVerification {
        let sorted = problems.sorted { ($0.ledgerID ?? .max, $0.rowID ?? .max) < ($1.ledgerID ?? .max, $1.rowID ?? .max) }
        return LedgerVerification(entries: entries, rowsChecked: rowsChecked, firstEntry: firstEntry,
                                  head: entries > 0 ? Hex.lowercase(previousHash) : nil, anchored: anchor != nil,
                                  prunedRuns: pruned.count, encodings: encodingCounts, problems: sorted)
    }
}
