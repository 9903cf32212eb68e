import ArgumentParser
import AuditStore
import Foundation
import HTTPTransport
import PostgresStore
import SQLiteStore
import Timekeeping
import Workflows

/// What a command gets from `--db`: the SQLite file store or the PostgreSQL store, behind the same protocols.
protocol AuditBackend: RunLog, AuditReader, AuditMaintenance {
    /// Where runners share each host's request budget (PostgreSQL), if the store can hold one.
    var rateBudget: (any SharedRateBudget)? { get }
    /// The applied schema migrations, oldest first.
    func appliedMigrations() async throws(AuditStoreError) -> [(version: Int, name: String)]
    /// Commits deferred writes and lets the store go.
    func close() async
    /// Lets a store opened for reading go, without writing anything.
    func closeReader() async
}

extension SQLiteAuditStore: AuditBackend {
    func closeReader() async { stopWithoutFlush() }
    var rateBudget: (any SharedRateBudget)? { nil }
}

extension PostgresAuditStore: AuditBackend {
    func closeReader() async { await close() }
    var rateBudget: (any SharedRateBudget)? { readOnly ? nil : SharedBudget(budget: PostgresRateBudget(store: self)) }
}

/// The PostgreSQL store's rate budgets as the transport's seam.
struct SharedBudget: SharedRateBudget {
    let budget: PostgresRateBudget

    func reserve(host: String, rate: Double?, count: Int) async throws -> RateGrant {
        let booking = try await budget.reserve(host: host, rate: rate, count: count)
        return RateGrant(start: .seconds(booking.start), interval: .seconds(booking.interval), rate: booking.rate,
                         bookedAt: booking.bookedAt)
    }

    func throttled(host: String, pause: Duration, factor: Double, floor: Double) async throws -> Double? {
        try await budget.throttled(host: host, pause: pause.seconds, factor: factor, floor: floor)
    }
}

extension WorkflowContext {
    /// This context with `log`'s shared rate budget (runs on PostgreSQL pace every runner together).
    func sharing(_ log: any AuditBackend) -> WorkflowContext {
        var context = self
        context.rateBudget = log.rateBudget
        return context
    }
}

/// Where the audit log lives, and how commands open it.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Audit database: a file path, or postgres://USER@HOST:PORT/DB?sslmode=MODE (env STEVEDORE_DB; default $XDG_STATE_HOME/stevedore/audit.db).",
        valueName: "path|url"))
    var db: String?

    var path: String { db ?? SQLiteAuditStore.defaultPath() }

    /// True when `--db` (or `STEVEDORE_DB`) names a PostgreSQL server.
    var isPostgres: Bool { PostgresLocation.isPostgresURL(path) }

    /// The database for messages: the path, or the server URL without its password.
    var displayLocation: String {
        guard isPostgres else { return path }
        return (try? PostgresLocation(parsing: path).location) ?? PostgresLocation.redacted(path)
    }

    /// How readers tell a run whose process on this host died from one still running, without writing.
    static let liveness = SQLiteAuditStore.Liveness(host: RunEnvironment().host) { pid in kill(pid, 0) == 0 || errno == EPERM }

    private static var postgresLiveness: PostgresAuditStore.Liveness {
        PostgresAuditStore.Liveness(host: liveness.host, isAlive: liveness.isAlive)
    }

    private func openForWriting() async throws -> any AuditBackend {
        if isPostgres { return try await PostgresAuditStore.open(url: path) }
        return try SQLiteAuditStore(path: path)
    }

    /// Opens (creating and migrating if needed) the audit database for a command that writes runs, marks runs of
    /// this host whose process is gone as `died`, runs `body`, and closes the store (committing what is deferred).
    func withLog<T>(_ body: (any AuditBackend) async throws -> T) async throws -> T {
        let store = try await openForWriting()
        do {
            _ = try await store.markDiedRuns(host: Self.liveness.host, isAlive: Self.liveness.isAlive)
            let result = try await body(store)
            await store.close()
            return result
        } catch {
            await store.close()
            throw error
        }
    }

    /// Opens an existing audit database read-only for a report or a check: never creates it, never writes to it.
    func withReader<T>(_ body: (any AuditBackend) async throws -> T) async throws -> T {
        let store: any AuditBackend = isPostgres
            ? try await PostgresAuditStore.open(url: path, readOnly: true, liveness: Self.postgresLiveness)
            : try SQLiteAuditStore.openForReading(path: path, liveness: Self.liveness)
        do {
            let result = try await body(store)
            await store.closeReader()
            return result
        } catch {
            await store.closeReader()
            throw error
        }
    }

    /// Opens an existing audit database read-write for maintenance (prune, upgrade): a missing file is an error.
    func withExisting<T>(_ body: (any AuditBackend) async throws -> T) async throws -> T {
        guard isPostgres || FileManager.default.fileExists(atPath: path) else {
            throw AuditStoreError(.missing, path: path, message: "no such file")
        }
        return try await withLog(body)
    }
}
