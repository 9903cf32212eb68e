import AuditStore
import CSQLite
import Foundation

/// The audit log in one SQLite database (WAL mode): the embedded default behind ``RunLog``, ``AuditReader`` and
/// ``AuditMaintenance``.
///
/// One connection, used only by the store's ``WriterThread``: async callers queue their work, concurrent writes
/// share a transaction (group commit). The schema is `migrations/*.sql`, embedded at build time and applied when
/// the store is opened for writing; a store opened for reading never writes and never creates the file.
public final class SQLiteAuditStore: RunLog, AuditReader, AuditMaintenance, @unchecked Sendable {
    public let path: String
    public var location: String { path }
    public let readOnly: Bool
    let thread: WriterThread
    let encodings: LedgerEncodings
    /// How reads tell a run whose process died from one still running (readers never write `died`).
    let liveness: Liveness?

    /// Decides, when reading, whether a run recorded as running on this host is really still running.
    public struct Liveness: Sendable {
        public var host: String
        public var isAlive: @Sendable (Int32) -> Bool

        public init(host: String, isAlive: @escaping @Sendable (Int32) -> Bool) {
            self.host = host
            self.isAlive = isAlive
        }
    }

    /// `$STEVEDORE_DB`, else `$XDG_STATE_HOME/stevedore/audit.db`, else `~/.local/state/stevedore/audit.db`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["STEVEDORE_DB"], !path.isEmpty { return path }
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return state + "/stevedore/audit.db" }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.local/state/stevedore/audit.db"
    }

    /// Opens (creating it and its directory if needed) and migrates the database at `path`.
    /// A file that is not a SQLite database is left untouched and reported as `notADatabase`.
    public convenience init(path: String, now: @escaping @Sendable () -> Date = { Date() }) throws(AuditStoreError) {
        try self.init(path: path, readOnly: false, migrations: EmbeddedMigrations.all, encodings: .builtIn,
                      liveness: nil, now: now)
    }

    /// Opens an existing database for reading only: a missing file is `missing`, an older schema is refused
    /// with the remedy, and nothing is ever written (not even the schema or `died` marks).
    public static func openForReading(path: String, liveness: Liveness? = nil) throws(AuditStoreError) -> SQLiteAuditStore {
        guard FileManager.default.fileExists(atPath: path) else {
            throw AuditStoreError(.missing, path: path, message: "no such file")
        }
        return try SQLiteAuditStore(path: path, readOnly: true, migrations: EmbeddedMigrations.all, encodings: .builtIn,
                                    liveness: liveness, now: { Date() })
    }

    init(path: String, readOnly: Bool, migrations: [Migrator.Migration], encodings: LedgerEncodings,
         liveness: Liveness?, now: @escaping @Sendable () -> Date) throws(AuditStoreError) {
        self.path = path
        self.readOnly = readOnly
        self.encodings = encodings
        self.liveness = liveness
        if !readOnly { try Self.createDirectory(of: path) }
        let connection = try Connection(path: path, readOnly: readOnly)
        // Reading the schema is the first access to the file: a non-database fails here, before any write.
        let migrator = Migrator(connection: connection, migrations: migrations)
        let pending = try migrator.pending()
        if readOnly {
            guard pending.isEmpty else {
                throw AuditStoreError(.olderSchema, path: path, message: "\(pending.count) migrations to apply")
            }
        } else {
            // 1 KiB pages: a job's transaction dirties a dozen b-tree pages and the WAL writes each whole; smaller
            // pages cut the audit write time by about a quarter (docs/PERFORMANCE.md). Only applies to a new file.
            try connection.execute("""
                PRAGMA page_size = 1024; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
                PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 16384;
                """)
            let stamp = Timestamp.string(now())
            try migrator.migrate(at: stamp)
            // Rows written before the ledger existed are chained once, when the migration that adds it runs; a
            // ledger deleted later is not rebuilt (audit verify then reports every row as inserted).
            if pending.contains(where: { $0.version == Self.ledgerMigration }) {
                try Self.adoptUnchainedRows(connection, encodings: encodings, at: stamp)
            }
        }
        thread = WriterThread(connection: connection, encodings: encodings, now: now)
    }

    /// The migration that creates the ledger (`0003_reports_and_ledger.sql`).
    static let ledgerMigration = 3

    deinit {
        thread.stop()
    }

    /// Commits deferred writes and stops the store's thread. The store must not be used afterwards.
    public func close() async {
        _ = await thread.flush()
        thread.stop()
    }

    public func flush() async -> AuditStoreError? {
        await thread.flush()
    }

    /// Milliseconds spent in audit writes since the store was opened: wall clock and CPU of the writing thread.
    public var writeMilliseconds: (wall: Int, cpu: Int) { thread.writeMilliseconds }

    /// The applied migrations, oldest first.
    public func appliedMigrations() async throws(AuditStoreError) -> [(version: Int, name: String)] {
        try await thread.read { connection throws(AuditStoreError) in
            try Migrator(connection: connection, migrations: EmbeddedMigrations.all).applied().map { ($0.version, $0.name) }
        }
    }

    /// A write on the store's thread, refused when the store was opened for reading.
    func write<T: Sendable>(_ body: @escaping (Connection, LedgerWriter) throws(AuditStoreError) -> T) async throws(AuditStoreError) -> T {
        guard !readOnly else { throw AuditStoreError(.cannotOpen, path: path, message: "opened for reading only") }
        return try await thread.write(body)
    }

    func read<T: Sendable>(_ body: @escaping (Connection) throws(AuditStoreError) -> T) async throws(AuditStoreError) -> T {
        try await thread.read(body)
    }

    private static func createDirectory(of path: String) throws(AuditStoreError) {
        let directory = (path as NSString).deletingLastPathComponent
        guard !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) else { return }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw AuditStoreError(.cannotOpen, path: path, message: "cannot create \(directory)")
        }
    }

    /// Chains every row written before the ledger existed (databases from before migration 3), unless the ledger
    /// already has entries or an anchor.
    private static func adoptUnchainedRows(_ connection: Connection, encodings: LedgerEncodings,
                                           at now: String) throws(AuditStoreError) {
        let empty = try connection.query(
            "SELECT NOT EXISTS (SELECT 1 FROM ledger) AND NOT EXISTS (SELECT 1 FROM ledger_anchor)") { $0.int(0) == 1 }
            .first ?? false
        guard empty else { return }
        let ledger = LedgerWriter(connection: connection, encodings: encodings)
        try connection.transaction { () throws(AuditStoreError) in
            try ledger.begin(at: now)
            for table in AuditedTable.allCases { try ledger.appendExisting(table) }
        }
    }

    // MARK: SQL shared by writes and reads

    /// The run a row of `table` belongs to, as a SQL expression over alias `t` (with ``runJoin(_:)``).
    static func runIDExpression(_ table: AuditedTable) -> String {
        switch table {
        case .runs: "t.id"
        case .jobs, .runResumptions, .limiterPauses: "t.run_id"
        case .attempts, .itemResults, .jobManifests, .blobActions: "coalesce(j.run_id, 0)"
        case .prunedRuns: "0"
        }
    }

    /// The join that gives ``runIDExpression(_:)`` its job.
    static func runJoin(_ table: AuditedTable) -> String {
        [.attempts, .itemResults, .jobManifests, .blobActions].contains(table) ? "LEFT JOIN jobs j ON j.id = t.job_id" : ""
    }
}

extension SQLiteAuditStore {
    /// Stops the store's thread; for stores opened for reading, which have nothing to commit.
    public func stopWithoutFlush() {
        thread.stop()
    }
}
