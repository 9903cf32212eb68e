import ArgumentParser
import AuditCopy
import AuditStore
import Foundation
import PostgresStore

/// `stevedore audit copy --from sqlite:FILE --to postgres://...`: moves a SQLite audit log into an empty PostgreSQL
/// database, ids, hashes and ledger entries as they are, then verifies the copy's chain.
struct AuditCopyCommand: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy a SQLite audit log into an empty PostgreSQL database; its ledger keeps verifying.",
        discussion: """
            The source is read-only and must be at this stevedore's schema (stevedore audit upgrade --db FILE first). \
            The target is migrated, then filled in one transaction; the copy is verified before the command succeeds.
            """
    )

    @Option(help: ArgumentHelp("The SQLite audit log: sqlite:FILE (or a path).", valueName: "sqlite:file"))
    var from: String

    @Option(help: ArgumentHelp("The PostgreSQL database: postgres://USER@HOST:PORT/DB?sslmode=MODE.", valueName: "url"))
    var to: String

    mutating func execute(console: Console) async throws -> ExitStatus {
        let source = from.hasPrefix("sqlite:") ? String(from.dropFirst("sqlite:".count)) : from
        guard PostgresLocation.isPostgresURL(to) else {
            throw CommandError("--to must be a postgres:// or postgresql:// url", status: .usage)
        }
        guard FileManager.default.fileExists(atPath: source) else {
            throw AuditStoreError(.missing, path: source, message: "no such file")
        }
        let dump = try SQLiteDumpReader.read(path: source)
        let target = try await PostgresAuditStore.open(url: to)
        do {
            try await target.importLog(dump)
            let verification = try await target.verifyLedger(expectHead: nil)
            await target.close()
            guard verification.ok else {
                let problem = verification.problems.first?.message ?? "unknown problem"
                console.error("error: the copy in \(target.location) fails verification: \(problem)")
                return .jobsFailed
            }
            console.output("copied \(dump.rowCount) rows from \(source) to \(target.location); "
                           + "\(verification.entries) ledger entries verified, head \(verification.head ?? "-")")
            return .success
        } catch {
            await target.close()
            throw error
        }
    }
}
