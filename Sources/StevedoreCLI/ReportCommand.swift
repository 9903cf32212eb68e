import ArgumentParser
import AuditStore
import Provisioning

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Answer audit questions from the audit database.",
        subcommands: [SummaryReport.self]
    )
}

enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

struct SummaryReport: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Counts of one run (default: the latest) by job status, tags and attempts."
    )

    @Argument(help: "Run id (default: the latest run).")
    var run: Int64?

    @Option(help: "Output format: table or json.")
    var format: ReportFormat = .table

    @OptionGroup var database: DatabaseOptions

    mutating func execute(console: Console) async throws -> ExitStatus {
        let store = try database.open()
        do {
            guard let id = try run ?? store.latestRunID() else {
                throw CommandError("error: the audit database \(store.path) has no runs yet; run stevedore provision first",
                                   status: .usage)
            }
            guard let summary = try store.summary(run: id) else {
                throw CommandError("error: no run \(id) in \(store.path); see the run ids with stevedore report summary",
                                   status: .usage)
            }
            switch format {
            case .table: console.output(SummaryText.table(summary))
            case .json: console.output(try SummaryText.json(summary))
            }
            return .success
        } catch let error as AuditStoreError {
            throw CommandError("error: \(error)", status: .auditDatabase)
        }
    }
}
