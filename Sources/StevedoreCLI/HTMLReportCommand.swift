import ArgumentParser
import AuditStore
import Foundation
import Provisioning
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
        let (id, page) = try database.withStore { store -> (RunID, String) in
            let id = try resolveRun(run, in: store)
            guard let summary = try store.summary(run: id) else {
                throw CommandError("error: no run \(id) in \(store.path)", status: .usage)
            }
            let data = RunReportData(summary: summary, jobs: try store.jobs(run: id),
                                     attempts: try store.attemptList(ReportFilter(runID: id)),
                                     pauses: try store.limiterPauses(run: id),
                                     failures: try store.failures(ReportFilter(runID: id)))
            return (id, HTMLReport.render(data))
        }
        let path = output ?? "stevedore-run-\(id).html"
        do {
            try Data(page.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CommandError("error: cannot write \(path): \(error.localizedDescription); choose another path with -o",
                               status: .usage)
        }
        console.output("wrote \(path) (run \(id), \(page.utf8.count / 1024) KiB)")
        return .success
    }
}
