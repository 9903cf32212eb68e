import ArgumentParser
import AuditStore
import Foundation
import SQLiteStore
import Workflows

/// Where the audit log lives, and how commands open it.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Audit database path (env STEVEDORE_DB; default $XDG_STATE_HOME/stevedore/audit.db).", valueName: "path"))
    var db: String?

    var path: String { db ?? SQLiteAuditStore.defaultPath() }

    /// How readers tell a run whose process on this host died from one still running, without writing.
    static let liveness = SQLiteAuditStore.Liveness(host: RunEnvironment().host) { pid in kill(pid, 0) == 0 || errno == EPERM }

    /// Opens (creating and migrating if needed) the audit database for a command that writes runs, marks runs of
    /// this host whose process is gone as `died`, runs `body`, and closes the store (committing what is deferred).
    func withLog<T>(_ body: (SQLiteAuditStore) async throws -> T) async throws -> T {
        let store = try SQLiteAuditStore(path: path)
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
    func withReader<T>(_ body: (SQLiteAuditStore) async throws -> T) async throws -> T {
        let store = try SQLiteAuditStore.openForReading(path: path, liveness: Self.liveness)
        defer { store.stopWithoutFlush() }
        return try await body(store)
    }

    /// Opens an existing audit database read-write for maintenance (prune, upgrade): a missing file is an error.
    func withExisting<T>(_ body: (SQLiteAuditStore) async throws -> T) async throws -> T {
        guard FileManager.default.fileExists(atPath: path) else {
            throw AuditStoreError(.missing, path: path, message: "no such file")
        }
        return try await withLog(body)
    }
}
