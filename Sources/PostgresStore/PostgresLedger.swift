import AuditStore
import Checksums
import Logging
import PostgresNIO

/// Chains the rows one write transaction wrote, at the end of that transaction.
///
/// Writing statements return their audited columns (`RETURNING`); the rows are kept until ``commit()``, which takes
/// the ledger's transaction-scoped advisory lock, reads the head and the runs' last hashes *after* the lock is
/// granted (READ COMMITTED: each statement sees every commit before it), computes the entries in Swift with the
/// current ``LedgerEncoding`` and inserts them in one statement. The lock is released by the commit that makes the
/// entries visible, so the next writer chains after them: one chain, no fork, whatever the number of processes.
/// The lock is taken after the transaction's row writes, so a writer holding it never waits on a row lock.
final class PostgresLedger: @unchecked Sendable {
    /// The advisory lock key that serializes ledger appends (`pg_advisory_xact_lock`).
    static let lockKey: Int64 = 0x5354_4556_0002

    let connection: PostgresConnection
    let logger: Logger
    let encodings: LedgerEncodings
    /// The transaction's timestamp, recorded as each entry's `written_at`.
    let now: String
    private var pending: [(row: AuditedRow, runID: Int64)] = []

    init(connection: PostgresConnection, logger: Logger, encodings: LedgerEncodings, now: String) {
        self.connection = connection
        self.logger = logger
        self.encodings = encodings
        self.now = now
    }

    /// The columns a writing statement returns for `table`, in the current encoding's order (qualified with `of`
    /// when the statement has other columns of the same names).
    func returning(_ table: AuditedTable, of qualifier: String? = nil) -> String {
        "RETURNING " + encodings.current.columns(of: table).map { (qualifier.map { $0 + "." } ?? "") + quoted($0) }
            .joined(separator: ", ")
    }

    /// Runs `statement` (an INSERT or UPDATE ending in ``returning(_:)``) and queues every row it returns for the
    /// ledger; rows of attempts, item results, manifests and blob actions need `runID` (their job's run).
    @discardableResult
    func write(_ table: AuditedTable, runID: Int64? = nil, _ statement: SQLStatement) async throws -> [AuditedRow] {
        let names = encodings.current.columns(of: table)
        let rows = try await connection.rows(statement, logger: logger).map { $0.auditedRow(table, names: names) }
        for row in rows.sorted(by: { $0.id < $1.id }) { pending.append((row, runID ?? Self.ownRunID(row))) }
        return rows
    }

    /// Queues rows a statement returned some other way (``FinishBatch``): each row's run is its job's, from `runs`,
    /// or its own (`runs` nil: rows of `runs` and `jobs`).
    func queue(_ rows: [AuditedRow], runs: [Int64: Int64]?) {
        for row in rows {
            var run = Self.ownRunID(row)
            if let runs, case .integer(let job) = row["job_id"] { run = runs[job] ?? 0 }
            pending.append((row, run))
        }
    }

    /// Queues the current content of existing rows of `table` (`condition` over alias `t`).
    func appendExisting(_ table: AuditedTable, condition: String, _ values: [PGValue]) async throws {
        let names = encodings.current.columns(of: table)
        let sql = "SELECT \(PostgresAuditStore.runIDExpression(table)), \(names.map { "t.\(quoted($0))" }.joined(separator: ", ")) "
            + "FROM \(table.rawValue) t \(PostgresAuditStore.runJoin(table)) WHERE \(condition) ORDER BY t.id"
        for row in try await connection.rows(sql, values, logger: logger) {
            pending.append((row.auditedRow(table, names: names, from: 1), row.int(0)))
        }
    }

    static func ownRunID(_ row: AuditedRow) -> Int64 {
        switch row.table {
        case .runs: return row.id
        case .prunedRuns: return 0
        default:
            if case .integer(let run) = row["run_id"] { return run }
            return 0
        }
    }

    /// Takes the ledger lock (re-entrant within the transaction).
    func lock() async throws {
        _ = try await connection.rows("SELECT pg_advisory_xact_lock($1)", [.int(Self.lockKey)], logger: logger)
    }

    /// Appends the queued rows' entries: lock, head, run heads, one insert.
    func commit() async throws {
        guard !pending.isEmpty else { return }
        try await lock()
        // After the lock, in one statement (one round trip under the lock): the head, then each run's last hash,
        // one backward step of ledger_run per run however long its chain is.
        let runIDs = Array(Set(pending.map(\.runID)))
        var head: (id: Int64, hash: [UInt8])?
        var runHashes: [Int64: [UInt8]] = [:]
        for row in try await connection.rows("""
            SELECT 0, h.id, h.hash FROM (SELECT id, hash FROM ledger ORDER BY id DESC LIMIT 1) AS h
            UNION ALL
            SELECT 1, r.run_id, (SELECT l.run_hash FROM ledger l WHERE l.run_id = r.run_id ORDER BY l.id DESC LIMIT 1)
            FROM unnest($1::bigint[]) AS r(run_id)
            """, [.ints(runIDs)], logger: logger) where row.cells[2].bytes != nil {
            if row.int(0) == 0 { head = (row.int(1), row.bytes(2)) } else { runHashes[row.int(1)] = row.bytes(2) }
        }
        var previous: (id: Int64, hash: [UInt8])
        if let head { previous = head } else { previous = try await Self.head(connection, logger: logger) }
        var entries: [LedgerEntry] = []
        for (row, runID) in pending {
            let entry = LedgerChain.next(after: previous, runPrevious: runHashes[runID] ?? LedgerChain.zeroHash, runID: runID,
                                         row: row, encoding: encodings.current)
            entries.append(entry)
            previous = (entry.id, entry.hash)
            runHashes[runID] = entry.runHash
        }
        try await Self.insert(entries, writtenAt: now, connection, logger: logger)
        pending = []
    }

    /// Inserts entries as they are (ids and hashes decided by the caller), in one statement.
    static func insert(_ entries: [LedgerEntry], writtenAt: String, _ connection: PostgresConnection, logger: Logger) async throws {
        guard !entries.isEmpty else { return }
        _ = try await connection.rows("""
            INSERT INTO ledger (id, run_id, tbl, row_id, row_sha256, hash, run_hash, written_at, encoding)
            SELECT u.id, u.run_id, u.tbl, u.row_id, decode(u.row_sha256, 'hex'), decode(u.hash, 'hex'),
                   decode(u.run_hash, 'hex'), $8, u.encoding
            FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[],
                        $9::bigint[]) AS u(id, run_id, tbl, row_id, row_sha256, hash, run_hash, encoding)
            """, [.ints(entries.map(\.id)), .ints(entries.map(\.runID)), .texts(entries.map(\.table)),
                  .ints(entries.map(\.rowID)), .texts(entries.map { Hex.lowercase($0.rowSHA256) }),
                  .texts(entries.map { Hex.lowercase($0.hash) }), .texts(entries.map { Hex.lowercase($0.runHash) }),
                  .text(writtenAt), .ints(entries.map { Int64($0.encoding) })], logger: logger)
    }

    /// The id and hash of the newest entry; the anchor (after a prune) or zero for an empty ledger.
    static func head(_ connection: PostgresConnection, logger: Logger) async throws -> (id: Int64, hash: [UInt8]) {
        if let last = try await connection.rows("SELECT id, hash FROM ledger ORDER BY id DESC LIMIT 1", logger: logger).first {
            return (last.int(0), last.bytes(1))
        }
        if let anchor = try await anchor(connection, logger: logger) { return (anchor.firstID - 1, anchor.previousHash) }
        return (0, LedgerChain.zeroHash)
    }

    static func anchor(_ connection: PostgresConnection, logger: Logger) async throws -> LedgerAnchor? {
        try await connection.rows("SELECT first_id, prev_hash FROM ledger_anchor ORDER BY first_id DESC LIMIT 1",
                                  logger: logger).first.map { LedgerAnchor(firstID: $0.int(0), previousHash: $0.bytes(1)) }
    }
}
