import AuditStore
import Foundation
import Logging
import PostgresNIO
import Synchronization
import Timekeeping

/// The audit log in a PostgreSQL database, behind the same ``RunLog``, ``AuditReader`` and ``AuditMaintenance``
/// protocols as the SQLite store, with the same report rows for the same log.
///
/// A postgres-nio `PostgresClient` (a connection pool) serves every call; each write is one transaction whose
/// ledger entries are appended at its end under a transaction-scoped advisory lock (``PostgresLedger``), so any
/// number of processes may write to one database. The schema is `migrations/postgres/*.sql`, embedded at build time
/// and applied when the store is opened for writing.
public final class PostgresAuditStore: RunLog, AuditReader, AuditMaintenance, Sendable {
    /// The server URL without its password.
    public let location: String
    public let readOnly: Bool
    let client: PostgresClient
    let logger: Logger
    let encodings: LedgerEncodings
    let liveness: Liveness?
    let deferred = DeferredFinishes()
    /// This process's name as a runner of the shared queue (``jobQueue(lease:)``): `host:pid:nonce`.
    let runnerName: String
    /// Fences a write was refused on: the lease had been taken over by another runner.
    let refused = Mutex<[ClaimFence]>([])
    let claims = Mutex(0)
    let notifications = NotificationCounter()
    private let runner: Task<Void, Never>
    /// Time with at least one write transaction of this process open (overlapping writes count once, as on the
    /// SQLite store's single writer), and time spent in the shared queue's statements.
    let busy = BusyClock()
    let queueTime = BusyClock()

    /// Decides, when reading, whether a run recorded as running on this host is really still running.
    public struct Liveness: Sendable {
        public var host: String
        public var isAlive: @Sendable (Int32) -> Bool

        public init(host: String, isAlive: @escaping @Sendable (Int32) -> Bool) {
            self.host = host
            self.isAlive = isAlive
        }
    }

    /// Connects to `url` (`postgres://` or `postgresql://`), checks the credentials and the schema, and applies the
    /// pending migrations unless `readOnly`. A reader refuses an older schema and a database without one (`missing`).
    public static func open(url: String, readOnly: Bool = false, liveness: Liveness? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            now: Date = Date()) async throws(AuditStoreError) -> PostgresAuditStore {
        let parsed = try PostgresLocation(parsing: url, environment: environment)
        let settings = PostgresConnectionSettings(location: parsed,
                                                  password: PostgresCredentials.password(for: parsed, environment: environment),
                                                  readOnly: readOnly, environment: environment)
        let logger = Logger(label: "stevedore.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
        let location = parsed.location
        do {
            let connection = try await PostgresConnection.connect(configuration: try settings.connectionConfiguration(),
                                                                  id: 1, logger: logger)
            do {
                let migrator = PostgresMigrator(connection: connection, location: location, logger: logger)
                if readOnly {
                    let applied = try await migrator.applied()
                    let pending = try await migrator.pending()
                    if applied.isEmpty {
                        throw AuditStoreError(.missing, path: location, message: "the database holds no audit log")
                    }
                    if !pending.isEmpty {
                        throw AuditStoreError(.olderSchema, path: location, message: "\(pending.count) migrations to apply")
                    }
                } else {
                    try await migrator.migrate(at: Timestamp.string(now))
                }
                try await connection.close()
            } catch {
                try? await connection.close()
                throw error
            }
        } catch {
            throw PostgresErrors.map(error, location: location)
        }
        return PostgresAuditStore(location: location, readOnly: readOnly, settings: settings, logger: logger,
                                  liveness: liveness, runner: PostgresJobQueue.runnerName())
    }

    private init(location: String, readOnly: Bool, settings: PostgresConnectionSettings, logger: Logger,
                 liveness: Liveness?, runner: String) {
        self.location = location
        self.readOnly = readOnly
        self.logger = logger
        self.liveness = liveness
        self.runnerName = runner
        encodings = .builtIn
        let client = PostgresClient(configuration: settings.clientConfiguration, backgroundLogger: logger)
        self.client = client
        self.runner = Task { await client.run() }
    }

    deinit { runner.cancel() }

    /// Commits deferred writes and closes the pool. The store must not be used afterwards.
    public func close() async {
        notifications.stop()
        _ = await flush()
        runner.cancel()
    }

    /// Milliseconds this process spent in audit write transactions since the store was opened.
    public var writeMilliseconds: Int { busy.milliseconds }

    /// The applied migrations, oldest first.
    public func appliedMigrations() async throws(AuditStoreError) -> [(version: Int, name: String)] {
        let location = self.location, logger = self.logger
        let rows = try await read { connection in
            try await PostgresMigrator(connection: connection, location: location, logger: logger).applied()
        }
        return rows.map { ($0.version, $0.name) }
    }

    /// One write transaction: `body` writes rows through the ledger, whose entries are appended before the commit.
    /// It starts once the finishes deferred before it are committed (unless it is their own drain).
    @discardableResult
    func write<T: Sendable>(afterDeferred: Bool = true,
                            _ body: @escaping @Sendable (PostgresConnection, PostgresLedger) async throws -> T) async throws(AuditStoreError) -> T {
        guard !readOnly else { throw AuditStoreError(.cannotOpen, path: location, message: "opened for reading only") }
        if afterDeferred { await deferred.idle() }
        busy.begin()
        defer { busy.end() }
        let logger = self.logger, encodings = self.encodings
        do {
            return try await leased { connection in
                try await connection.withTransaction(logger: logger) { connection in
                let ledger = PostgresLedger(connection: connection, logger: logger, encodings: encodings,
                                            now: Timestamp.string(Date()))
                let result = try await body(connection, ledger)
                try await ledger.commit()
                return result
                }
            }
        } catch {
            throw PostgresErrors.map(error, location: location)
        }
    }

    /// A read on a pooled connection (each statement sees what was committed when it started).
    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws(AuditStoreError) -> T {
        do {
            return try await leased(body)
        } catch {
            throw PostgresErrors.map(error, location: location)
        }
    }

    /// A read in one REPEATABLE READ snapshot, for what must see one consistent state (verify, copy).
    func snapshot<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws(AuditStoreError) -> T {
        let logger = self.logger
        return try await read { connection in
            try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            do {
                let result = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// The run a row of `table` belongs to, as a SQL expression over alias `t` (with ``runJoin(_:)``).
    static func runIDExpression(_ table: AuditedTable) -> String {
        switch table {
        case .runs: "t.id"
        case .jobs, .runResumptions, .limiterPauses: "t.run_id"
        case .attempts, .itemResults, .jobManifests, .blobActions: "coalesce(j.run_id, 0)"
        case .prunedRuns: "0::bigint"
        }
    }

    static func runJoin(_ table: AuditedTable) -> String {
        [.attempts, .itemResults, .jobManifests, .blobActions].contains(table) ? "LEFT JOIN jobs j ON j.id = t.job_id" : ""
    }
}

extension PostgresAuditStore {
    /// How long a call waits for a pooled connection before it fails as `cannotOpen`. The pool itself keeps
    /// retrying a server that went away for about a minute per call; a run's writes should fail sooner.
    static let leaseTimeout: Duration = .seconds(15)

    /// Runs `body` on a pooled connection, failing if none is handed out within ``leaseTimeout``; once `body` has
    /// its connection it runs as long as it needs (a write may wait for the ledger lock). It runs in a task of its
    /// own: a caller that was cancelled (an interrupted run closing) still gets its writes done, as on the SQLite
    /// store's writer thread.
    func leased<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await Task { try await self.leasedNow(body) }.value
    }

    private func leasedNow<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let client = self.client, location = self.location
        let leased = LeaseFlag()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await client.withConnection { connection in
                    leased.set()
                    return try await body(connection)
                }
            }
            group.addTask {
                let deadline = ContinuousClock.now + Self.leaseTimeout
                while ContinuousClock.now < deadline {
                    if leased.isSet { return nil }
                    try await Task.sleep(for: .milliseconds(50))
                }
                if leased.isSet { return nil }
                throw AuditStoreError(.cannotOpen, path: location, message: "cannot reach the server (no connection within "
                                      + "\(Self.leaseTimeout.components.seconds) s); check that it runs and listens on that host and port")
            }
            while let result = try await group.next() {
                if let result {
                    group.cancelAll()
                    return result
                }
            }
            throw CancellationError()
        }
    }
}

/// Set once a connection was handed out.
final class LeaseFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// Accumulates the time during which at least one of several overlapping activities is under way.
final class BusyClock: Sendable {
    private let state = Mutex<(open: Int, since: ContinuousClock.Instant, total: Duration)>((0, .now, .zero))

    func begin() {
        state.withLock { state in
            if state.open == 0 { state.since = .now }
            state.open += 1
        }
    }

    func end() {
        state.withLock { state in
            state.open -= 1
            if state.open == 0 { state.total += ContinuousClock.now - state.since }
        }
    }

    /// Runs `body` as one activity.
    func measure<T>(_ body: () async throws -> T) async rethrows -> T {
        begin()
        defer { end() }
        return try await body()
    }

    var milliseconds: Int {
        let total = state.withLock { state in state.open > 0 ? state.total + (ContinuousClock.now - state.since) : state.total }
        return total.milliseconds
    }
}
