import Crypto
import Foundation

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
        /// `tag_state` disagrees with the tag result it names.
        case stateMismatch = "state_mismatch"
        /// The head given with `--expect-head` is not in the chain.
        case headNotFound = "head_not_found"
    }

    public var kind: Kind
    public var table: String?
    public var rowID: Int64?
    public var ledgerID: Int64?
    public var runID: Int64?
    public var message: String

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
    public var problems: [LedgerProblem]
    public var ok: Bool { problems.isEmpty }
}

extension AuditStore {
    /// Recomputes the ledger's chains and compares every audit row with its latest ledger entry.
    ///
    /// `expectHead` (hex) is a head recorded earlier outside the database: it must be one of the entries'
    /// hashes, which detects a removed or rewritten end of the chain.
    public func verifyLedger(expectHead: String? = nil) throws(AuditStoreError) -> LedgerVerification {
        try locked { connection throws(AuditStoreError) in
            try LedgerVerifier(connection: connection).verify(expectHead: expectHead?.lowercased())
        }
    }

    /// The newest ledger entry's hash (hex), the value to keep outside the database as an anchor.
    public func ledgerHead() throws(AuditStoreError) -> String? {
        try locked { connection throws(AuditStoreError) in
            try connection.query("SELECT hash FROM ledger ORDER BY id DESC LIMIT 1") { $0.blob(0).hexString }.first
        }
    }
}

/// Walks the ledger in id order, then every audited table in id order.
struct LedgerVerifier {
    let connection: Connection

    private struct Latest {
        var ledgerID: Int64
        var runID: Int64
        var rowSHA256: Data
    }

    func verify(expectHead: String?) throws(AuditStoreError) -> LedgerVerification {
        var problems: [LedgerProblem] = []
        let ledger = Ledger(connection: connection)
        let anchor = try ledger.anchor()
        var previousHash = anchor?.previousHash ?? Ledger.zeroHash
        var expectedID = anchor?.firstID ?? 1
        var runHashes: [Int64: Data] = [:]
        var latest: [String: [Int64: Latest]] = [:]
        var entries = 0
        var firstEntry: Int64?
        var headFound = expectHead == nil
        let pruned = try Set(connection.query("SELECT run_id FROM pruned_runs") { $0.int(0) })

        try connection.each("SELECT id, run_id, tbl, row_id, row_sha256, hash, run_hash FROM ledger ORDER BY id") { row throws(AuditStoreError) in
            let id = row.int(0), runID = row.int(1), table = row.text(2), rowID = row.int(3)
            let rowSHA256 = row.blob(4), hash = row.blob(5), runHash = row.blob(6)
            entries += 1
            if firstEntry == nil { firstEntry = id }
            if id != expectedID {
                let what = expectedID == id - 1 ? "entry \(expectedID) is" : "entries \(expectedID)...\(id - 1) are"
                problems.append(LedgerProblem(kind: .entriesMissing, ledgerID: expectedID, runID: nil,
                                              message: "ledger \(what) missing (deleted)"))
            }
            let entry = Ledger.entryDigest(id: id, runID: runID, table: table, rowID: rowID, rowSHA256: rowSHA256)
            if Ledger.chain(previousHash, entry) != hash {
                problems.append(LedgerProblem(kind: .entryAltered, table: table, rowID: rowID, ledgerID: id, runID: runID,
                                              message: "ledger entry \(id) (\(table) row \(rowID)) does not match its hash"))
            }
            // After a prune, a pruned run's chain (and the store's own, run 0) may start at an entry whose
            // predecessor was removed with the prefix; every other run starts from zero.
            let mayStartLate = anchor != nil && (runID == 0 || pruned.contains(runID))
            let runPrevious = runHashes[runID] ?? (mayStartLate ? nil : Ledger.zeroHash)
            if let runPrevious, Ledger.chain(runPrevious, entry) != runHash {
                problems.append(LedgerProblem(kind: .entryAltered, table: table, rowID: rowID, ledgerID: id, runID: runID,
                                              message: "ledger entry \(id) breaks the chain of run \(runID)"))
            }
            runHashes[runID] = runHash
            previousHash = hash
            expectedID = id + 1
            if !headFound, hash.hexString == expectHead { headFound = true }
            latest[table, default: [:]][rowID] = Latest(ledgerID: id, runID: runID, rowSHA256: rowSHA256)
        }
        if anchor == nil, let firstEntry, firstEntry != 1 {
            problems.append(LedgerProblem(kind: .entriesMissing, ledgerID: 1, runID: nil,
                                          message: "ledger entries 1...\(firstEntry - 1) are missing and no prune anchor explains it"))
        }
        if !headFound, let expectHead {
            problems.append(LedgerProblem(kind: .headNotFound, message: "head \(expectHead) is not in the ledger: its end was removed or rewritten"))
        }

        var rowsChecked = 0
        for table in LedgerTable.allCases {
            var recorded = latest[table.rawValue] ?? [:]
            try connection.each(table.rowsSQL + " ORDER BY \(table.idColumn)") { row throws(AuditStoreError) in
                let rowID = row.int(0)
                rowsChecked += 1
                guard let entry = recorded.removeValue(forKey: rowID) else {
                    problems.append(LedgerProblem(kind: .rowInserted, table: table.rawValue, rowID: rowID, ledgerID: nil,
                                                  runID: row.int(1),
                                                  message: "\(table.rawValue) row \(rowID) is not in the ledger (inserted outside stevedore)"))
                    return
                }
                if Ledger.sha256(row.text(2)) != entry.rowSHA256 {
                    problems.append(LedgerProblem(kind: .rowAltered, table: table.rawValue, rowID: rowID, ledgerID: entry.ledgerID,
                                                  runID: entry.runID,
                                                  message: "\(table.rawValue) row \(rowID) was altered after ledger entry \(entry.ledgerID)"))
                }
            }
            for (rowID, entry) in recorded where !pruned.contains(entry.runID) {
                problems.append(LedgerProblem(kind: .rowDeleted, table: table.rawValue, rowID: rowID, ledgerID: entry.ledgerID,
                                              runID: entry.runID,
                                              message: "\(table.rawValue) row \(rowID) (run \(entry.runID)) was deleted; the ledger recorded it at entry \(entry.ledgerID)"))
            }
        }
        let stale = try connection.query("""
            SELECT s.registry, s.repository, s.tag FROM tag_state s JOIN tag_results t ON t.id = s.tag_result_id
            WHERE t.digest_after IS NOT s.digest OR t.tag <> s.tag OR t.action <> s.action LIMIT 10
            """) { "\($0.text(0))/\($0.text(1)):\($0.text(2))" }
        for name in stale {
            problems.append(LedgerProblem(kind: .stateMismatch, table: "tag_state",
                                          message: "tag_state for \(name) disagrees with the tag result it names"))
        }
        problems.sort { ($0.ledgerID ?? .max, $0.rowID ?? .max) < ($1.ledgerID ?? .max, $1.rowID ?? .max) }
        return LedgerVerification(entries: entries, rowsChecked: rowsChecked, firstEntry: firstEntry,
                                  head: entries > 0 ? previousHash.hexString : nil, anchored: anchor != nil,
                                  prunedRuns: pruned.count, problems: problems)
    }
}
