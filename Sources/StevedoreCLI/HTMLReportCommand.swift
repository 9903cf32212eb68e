import ArgumentParser
import AuditStore
import Foundation
import SQLiteStore
import Reports

struct HTMLReportCommand: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "html",
        abstract: "Write one self-contained HTML page for a run: summary, timeline of jobs and attempts, failures."
    )

    @Argument(help: "Run id (default: the latest run).")
    var run: Int64?

    @Option(name: .shortAndLong, help: ArgumentHelp("The file to write (default: stevedore-run-ID.html).", valueName: "file"))
    var output: String?

    @OptionGroup var database: DatabaseOptions

    mutating func execute(console: Console) async throws -> ExitStatus {
        let run = self.run
        let (id, page) = try await database.withReader { store -> (RunID, String) in
            let id = try await resolveRun(run, in: store)
            guard let summary = try await store.summary(run: id, details: true) else {
                throw CommandError("no run \(id) in \(store.location)", status: .usage)
            }
            let data = RunReportData(summary: summary, jobs: try await store.jobs(run: id),
                                     attempts: try await store.attemptList(ReportFilter(runID: id)),
                                     pauses: try await store.limiterPauses(run: id),
                                     failures: try await store.failures(ReportFilter(runID: id)))
            return (id, HTMLReport.render(data))
        }
        let path = output ?? "stevedore-run-\(id).html"
        do {
            try Data(page.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CommandError("cannot write \(path): \(error.localizedDescription); choose another path with -o",
                               status: .usage)
        }
        console.output("wrote \(path) (run \(id), \(page.utf8.count / 1024) KiB)")
        return .success
    }
}
