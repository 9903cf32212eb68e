import ArgumentParser
import AuditStore
import Foundation
import SQLiteStore

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check the audit log's tamper evidence.",
        subcommands: [AuditVerifyCommand.self, AuditHeadCommand.self, AuditUpgradeCommand.self, AuditCopyCommand.self]
    )
}

struct AuditVerifyCommand: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the ledger's sha256 chain and compare every audit row with it; exit 1 if anything was altered, inserted or deleted.",
        discussion: """
            Detects rows changed, added or removed with sqlite3 or any other tool after Stevedore wrote them, and edits \
            to the ledger itself. It cannot detect a rewrite of the whole chain by someone who can run Stevedore's \
            hashing: keep the head (stevedore audit head, or ledger_run_head in report summary --format json) \
            somewhere else and pass it with --expect-head.
            """
    )

    @Option(name: .customLong("expect-head"), help: ArgumentHelp("A head recorded earlier; it must still be in the chain.", valueName: "hex"))
    var expectHead: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    @OptionGroup var database: DatabaseOptions

    mutating func execute(console: Console) async throws -> ExitStatus {
        let expectHead = self.expectHead
        let (path, result) = try await database.withReader { store in
            (store.location, try await store.verifyLedger(expectHead: expectHead))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            var shown = result
            shown.problems = Array(result.problems.prefix(100))
            console.output(String(decoding: try encoder.encode(VerifyJSON(result: shown, problemCount: result.problems.count)),
                                  as: UTF8.self))
        } else if let first = result.problems.first {
            let more = result.problems.count > 1 ? " (and \(result.problems.count - 1) more problems; --json lists them)" : ""
            console.error("error: audit log \(path) fails verification: \(first.message)\(more)")
        } else {
            let anchor = result.anchored ? ", starting at the prune anchor before entry \(result.firstEntry ?? 0)" : ""
            console.output("ok: \(result.entries) ledger entries and \(result.rowsChecked) rows verified\(anchor); "
                           + "head \(result.head ?? "-")")
        }
        return result.ok ? .success : .jobsFailed
    }

    struct VerifyJSON: Encodable {
        var result: LedgerVerification
        var problemCount: Int

        enum CodingKeys: String, CodingKey {
            case ok, entries, rowsChecked = "rows_checked", firstEntry = "first_entry", head, anchored
            case prunedRuns = "pruned_runs", problems, problemCount = "problem_count"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(result.ok, forKey: .ok)
            try container.encode(result.entries, forKey: .entries)
            try container.encode(result.rowsChecked, forKey: .rowsChecked)
            try container.encode(result.firstEntry, forKey: .firstEntry)
            try container.encode(result.head, forKey: .head)
            try container.encode(result.anchored, forKey: .anchored)
            try container.encode(result.prunedRuns, forKey: .prunedRuns)
            try container.encode(result.problems, forKey: .problems)
            try container.encode(problemCount, forKey: .problemCount)
        }
    }
}

struct AuditHeadCommand: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "head",
        abstract: "Print the ledger's current head hash, to keep outside the database for audit verify --expect-head."
    )

    @OptionGroup var database: DatabaseOptions

    mutating func execute(console: Console) async throws -> ExitStatus {
        let head = try await database.withReader { store in
            guard let head = try await store.ledgerHead() else {
                throw CommandError("the audit log \(store.location) has no ledger entries yet", status: .usage)
            }
            return head
        }
        console.output(head)
        return .success
    }
}

struct PruneCommand: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete finished runs started before a date, keep the ledger verifiable, and VACUUM.",
        discussion: """
            Each pruned run leaves a pruned_runs row with its counts and its last ledger hash; what the log says each \
            repository:tag holds (report state) is kept. Runs still running are never pruned.
            """
    )

    @Option(help: ArgumentHelp("Prune runs started before this: 2026-01-01, 2026-01-01T12:00Z, or an age like 90d.", valueName: "time"))
    var before: String

    @Flag(name: .customLong("dry-run"), help: "Show what would be deleted; change nothing.")
    var dryRun = false

    @OptionGroup var database: DatabaseOptions

    mutating func execute(console: Console) async throws -> ExitStatus {
        let cutoff = try ReportFilterOptions.time(before, "--before")
        let dryRun = self.dryRun
        let result = try await database.withExisting { try await $0.prune(before: cutoff, dryRun: dryRun) }
        let runs = result.runs.count == 1 ? "1 run" : "\(result.runs.count) runs"
        if dryRun {
            console.output("would prune \(runs) started before \(cutoff) (\(result.jobs) jobs, \(result.attempts) attempts)"
                           + (result.runs.isEmpty ? "" : ": " + result.runs.map(String.init).joined(separator: " ")))
        } else {
            console.output("pruned \(runs) started before \(cutoff): \(result.jobs) jobs, \(result.attempts) attempts, "
                           + "\(result.ledgerEntriesRemoved) ledger entries; file \(result.bytesBefore / 1024) KiB → "
                           + "\(result.bytesAfter / 1024) KiB")
        }
        return .success
    }
}

struct AuditUpgradeCommand: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "upgrade",
        abstract: "Apply this stevedore's schema migrations to an existing audit database (reports never write).",
        discussion: "Every command that records a run does the same on its own; old ledger entries keep verifying."
    )

    @OptionGroup var database: DatabaseOptions

    mutating func execute(console: Console) async throws -> ExitStatus {
        let migrations = try await database.withExisting { try await $0.appliedMigrations() }
        let last = migrations.last.map { "\($0.version) (\($0.name))" } ?? "none"
        console.output("ok: \(database.displayLocation) is at schema \(last)")
        return .success
    }
}
