import AuditStore

/// Applies the embedded migrations (`migrations/NNNN_name.sql`) in order, each in its own
/// transaction, and records them in `schema_migrations` with a checksum of their text.
struct Migrator {
    typealias Migration = (version: Int, name: String, sql: String)

    let connection: Connection
    let migrations: [Migration]

    /// The bookkeeping table is the migrator's own; everything else comes from the SQL files.
    static let bookkeeping = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            checksum   TEXT NOT NULL,
            applied_at TEXT NOT NULL
        ) STRICT
        """

    /// Versions and checksums already applied.
    func applied() throws(AuditStoreError) -> [(version: Int, name: String, checksum: String)] {
        let exists = try connection.query(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'") { $0.int(0) }
        guard exists.first == 1 else { return [] }
        return try connection.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version") {
            (Int($0.int(0)), $0.text(1), $0.text(2))
        }
    }

    /// Checks the applied migrations against the embedded ones; returns those still to apply.
    func pending() throws(AuditStoreError) -> [Migration] {
        let done = try applied()
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for entry in done {
            guard let migration = known[entry.version] else {
                throw AuditStoreError(.newerSchema, path: connection.path,
                                      message: "it has schema version \(entry.version), this binary knows up to \(migrations.count)")
            }
            if Self.checksum(migration.sql) != entry.checksum {
                throw AuditStoreError(.migrationChanged, path: connection.path,
                                      message: "migration \(entry.version) (\(entry.name)) differs from the one applied")
            }
        }
        let doneVersions = Set(done.map(\.version))
        return migrations.filter { !doneVersions.contains($0.version) }
    }

    /// Applies every pending migration. Foreign keys are off while they run (a migration may rebuild a table
    /// others refer to, keeping its ids) and checked before they are turned back on.
    func migrate(at now: String) throws(AuditStoreError) {
        let todo = try pending()
        guard !todo.isEmpty else { return }
        try connection.execute(Self.bookkeeping)
        try connection.execute("PRAGMA foreign_keys = OFF")
        defer { try? connection.execute("PRAGMA foreign_keys = ON") }
        for migration in todo {
            try connection.transaction { () throws(AuditStoreError) in
                try connection.execute(migration.sql)
                try connection.run("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
                                   [.int(migration.version), .text(migration.name), .text(Self.checksum(migration.sql)),
                                    .text(now)])
                let broken = try connection.query("PRAGMA foreign_key_check") { "\($0.text(0)) row \($0.int(1))" }
                if let first = broken.first {
                    throw AuditStoreError(.engine(code: "foreign key"), path: connection.path,
                                          message: "migration \(migration.version) left \(broken.count) broken references (\(first))")
                }
            }
        }
    }

    /// FNV-1a (64-bit) of the SQL text plus its length: detects an edited migration; not a security measure.
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
