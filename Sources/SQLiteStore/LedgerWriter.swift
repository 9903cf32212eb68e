import AuditStore
import Foundation

/// Appends ledger entries inside the write transaction of the rows they record.
///
/// Rows come from the writing statement itself (`INSERT/UPDATE ... RETURNING` the audited columns), are encoded
/// in Swift with the current ``LedgerEncoding`` and chained after the head. The head and the runs' last hashes
/// are kept between transactions on the writer thread; `PRAGMA data_version` tells when another connection
/// (another stevedore process) committed in between, and then they are read again.
final class LedgerWriter {
    let connection: Connection
    let encodings: LedgerEncodings
    private var head: (id: Int64, hash: [UInt8])?
    private var runHashes: [Int64: [UInt8]] = [:]
    private var dataVersion: Int64?
    /// The transaction's timestamp, recorded as each entry's `written_at`.
    private(set) var now = ""

    init(connection: Connection, encodings: LedgerEncodings) {
        self.connection = connection
        self.encodings = encodings
    }

    /// The columns a writing statement returns for `table`, in the current encoding's order.
    func returning(_ table: AuditedTable) -> String {
        "RETURNING " + encodings.current.columns(of: table).joined(separator: ", ")
    }

    /// Runs `sql` (an INSERT or UPDATE ending in ``returning(_:)``) and chains every row it returns. Rows of
    /// attempts and item results need `runID` (their job's run); the other tables name their run themselves.
    @discardableResult
    func write(_ table: AuditedTable, runID: Int64? = nil, _ sql: String, _ values: [SQLValue]) throws(AuditStoreError) -> [AuditedRow] {
        let names = encodings.current.columns(of: table)
        let rows = try connection.query(sql, values) { $0.auditedRow(table, names: names) }
        for row in rows.sorted(by: { $0.id < $1.id }) { try append(row, runID: runID ?? Self.ownRunID(row)) }
        return rows
    }

    /// The run a row names itself: a run's own id, a job's, resumption's or pause's `run_id`; 0 for pruned runs.
    static func ownRunID(_ row: AuditedRow) -> Int64 {
        switch row.table {
        case .runs: return row.id
        case .prunedRuns: return 0
        default:
            if case .integer(let run) = row["run_id"] { return run }
            return 0
        }
    }

    /// Chains `row` (already written) with `runID`.
    func append(_ row: AuditedRow, runID: Int64) throws(AuditStoreError) {
        let previous = try currentHead()
        let runPrevious = try runHash(runID)
        let entry = LedgerChain.next(after: previous, runPrevious: runPrevious, runID: runID, row: row,
                                     encoding: encodings.current)
        try connection.run("""
            INSERT INTO ledger (id, run_id, tbl, row_id, row_sha256, hash, run_hash, written_at, encoding)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.int(entry.id), .int(runID), .text(entry.table), .int(entry.rowID), .blob(Data(entry.rowSHA256)),
                  .blob(Data(entry.hash)), .blob(Data(entry.runHash)), .text(now),
                  .int(Int64(entry.encoding))])
        head = (entry.id, entry.hash)
        runHashes[runID] = entry.runHash
    }

    /// Chains the current content of rows that exist already (adopting rows written before the ledger).
    func appendExisting(_ table: AuditedTable, whereSQL: String = "", _ values: [SQLValue] = []) throws(AuditStoreError) {
        let names = encodings.current.columns(of: table)
        let sql = "SELECT \(SQLiteAuditStore.runIDExpression(table)), \(names.map { "t.\($0)" }.joined(separator: ", ")) "
            + "FROM \(table.rawValue) t \(SQLiteAuditStore.runJoin(table)) \(whereSQL) ORDER BY t.id"
        let rows = try connection.query(sql, values) { ($0.int(0), $0.auditedRow(table, names: names, from: 1)) }
        for (runID, row) in rows { try append(row, runID: runID) }
    }

    /// Called at the start of every transaction: forgets the cache when another connection has written.
    func begin(at now: String) throws(AuditStoreError) {
        self.now = now
        let version = try connection.query("PRAGMA data_version") { $0.int(0) }.first
        if version != dataVersion { forget() }
        dataVersion = version
    }

    /// Forgets the cached head (a rollback, another writer, a prune).
    func forget() {
        head = nil
        runHashes = [:]
    }

    private func currentHead() throws(AuditStoreError) -> (id: Int64, hash: [UInt8]) {
        if let head { return head }
        let read = try Self.head(connection)
        head = read
        return read
    }

    private func runHash(_ runID: Int64) throws(AuditStoreError) -> [UInt8] {
        if let cached = runHashes[runID] { return cached }
        let read = try connection.query("SELECT run_hash FROM ledger WHERE run_id = ? ORDER BY id DESC LIMIT 1",
                                        [.int(runID)]) { [UInt8]($0.blob(0)) }.first ?? LedgerChain.zeroHash
        runHashes[runID] = read
        return read
    }

    /// The id and hash of the newest entry; the anchor (after a prune) or zero for an empty ledger.
    static func head(_ connection: Connection) throws(AuditStoreError) -> (id: Int64, hash: [UInt8]) {
        if let last = try connection.query("SELECT id, hash FROM ledger ORDER BY id DESC LIMIT 1", [], {
            ($0.int(0), [UInt8]($0.blob(1)))
        }).first {
            return last
        }
        if let anchor = try anchor(connection) { return (anchor.firstID - 1, anchor.previousHash) }
        return (0, LedgerChain.zeroHash)
    }

    static func anchor(_ connection: Connection) throws(AuditStoreError) -> LedgerAnchor? {
        try connection.query("SELECT first_id, prev_hash FROM ledger_anchor ORDER BY rowid DESC LIMIT 1") {
            LedgerAnchor(firstID: $0.int(0), previousHash: [UInt8]($0.blob(1)))
        }.first
    }
}
