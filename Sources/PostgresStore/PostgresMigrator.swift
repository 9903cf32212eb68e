import AuditStore
import Foundation
import Logging
import PostgresNIO

/// Applies the embedded PostgreSQL migrations (`migrations/postgres/NNNN_name.sql`) in order, recording each in
/// `schema_migrations` with a checksum of its text. Runs under a transaction-scoped advisory lock, so processes
/// that start together against a new database migrate it once.
struct PostgresMigrator {
    typealias Migration = (version: Int, name: String, sql: String)

    static let all: [Migration] = EmbeddedMigrations.all
    /// The advisory lock key of migrations (the ledger has its own, ``PostgresLedger/lockKey``).
    static let lockKey: Int64 = 0x5354_4556_0001

    let connection: PostgresConnection
    let location: String
    let logger: Logger
    var migrations: [Migration] = Self.all

    static let bookkeeping = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    bigint PRIMARY KEY,
            name       text NOT NULL,
            checksum   text NOT NULL,
            applied_at text NOT NULL
        )
        """

    /// Versions already applied; empty when the database has no `schema_migrations` table.
    func applied() async throws -> [(version: Int, name: String, checksum: String)] {
        let exists = try await connection.rows("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger)
        guard exists.first?.bool(0) == true else { return [] }
        return try await connection.rows("SELECT version, name, checksum FROM schema_migrations ORDER BY version",
                                         logger: logger).map { (Int($0.int(0)), $0.text(1), $0.text(2)) }
    }

    /// Checks the applied migrations against the embedded ones (a newer or changed schema is refused); returns those
    /// still to apply.
    func pending() async throws -> [Migration] {
        let done = try await applied()
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for entry in done {
            guard let migration = known[entry.version] else {
                throw AuditStoreError(.newerSchema, path: location,
                                      message: "it has schema version \(entry.version), this binary knows up to \(migrations.count)")
            }
            if Self.checksum(migration.sql) != entry.checksum {
                throw AuditStoreError(.migrationChanged, path: location,
                                      message: "migration \(entry.version) (\(entry.name)) differs from the one applied")
            }
        }
        let versions = Set(done.map(\.version))
        return migrations.filter { !versions.contains($0.version) }
    }

    /// Applies every pending migration, all in one transaction under the migration lock.
    func migrate(at now: String) async throws {
        try await connection.query("BEGIN", logger: logger)
        do {
            _ = try await connection.rows("SELECT pg_advisory_xact_lock($1)", [.int(Self.lockKey)], logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: Self.bookkeeping), logger: logger)
            for migration in try await pending() {
                for statement in Self.statements(migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                _ = try await connection.rows("""
                    INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)
                    """, [.int(migration.version), .text(migration.name), .text(Self.checksum(migration.sql)), .text(now)],
                    logger: logger)
            }
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    /// The statements of a migration file: split at semicolons outside quotes, `--` comments and `$$` bodies.
    static func statements(_ sql: String) -> [String] {
        var statements: [String] = [], current = ""
        var inQuote = false, inComment = false, inBody = false
        var previous: Character = " "
        for character in sql {
            if inComment {
                if character == "\n" { inComment = false }
            } else if inQuote {
                if character == "'" { inQuote = false }
            } else if inBody {
                if character == "$" && previous == "$" { inBody = false; previous = " "; current.append(character); continue }
            } else if character == "-" && previous == "-" {
                inComment = true
            } else if character == "'" {
                inQuote = true
            } else if character == "$" && previous == "$" {
                inBody = true; previous = " "; current.append(character); continue
            } else if character == ";" {
                let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !statement.isEmpty { statements.append(statement) }
                current = ""; previous = " "
                continue
            }
            current.append(character)
            previous = character
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty && !rest.split(separator: "\n").allSatisfy({ $0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }) {
            statements.append(rest)
        }
        return statements
    }

    /// FNV-1a (64-bit) of the SQL text plus its length, as the SQLite store records it.
    static func checksum(_ sql: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex + "-" + String(sql.utf8.count)
    }
}
