import ArgumentParser
import AuditStore
import SQLiteStore
import Reports

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Answer audit questions from the audit database (table, json or csv).",
        subcommands: [SummaryReport.self, RunsReport.self, FailuresReport.self, ServiceReport.self, StateReport.self, ReleaseReport.self,
                      AttemptsReport.self, HTMLReportCommand.self]
    )
}

/// The given run, else the latest; a clear error when there is none.
func resolveRun(_ run: Int64?, in store: any AuditReader) async throws -> RunID {
    let chosen: RunID? = if let run { run } else { try await store.latestRunID() }
    guard let id = chosen else {
        throw CommandError("the audit database \(store.location) has no runs yet; run stevedore provision first",
                           status: .usage)
    }
    guard try await store.run(id) != nil else {
        throw CommandError("no run \(id) in \(store.location); list the runs with stevedore report runs", status: .usage)
    }
    return id
}


struct SummaryReport: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Counts of one run (default: the latest): jobs by status and class, attempts, retries, waits, latency."
    )

    @Argument(help: "Run id (default: the latest run).")
    var run: Int64?

    @OptionGroup var output: ReportOutputOptions

    mutating func execute(console: Console) async throws -> ExitStatus {
        let (run, output) = (self.run, self.output)
        return try await output.database.withReader { store in
            let id = try await resolveRun(run, in: store)
            guard let summary = try await store.summary(run: id, details: true) else { return .usage }
            switch output.format {
            case .table: console.output(SummaryText.table(summary))
            case .json: console.output(try SummaryText.json(summary))
            case .csv: console.output(SummaryText.csv(summary))
            }
            return .success
        }
    }
}

struct RunsReport: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "One row per run, newest first: when, who, where, input file and its sha256, counts, status."
    )

    @OptionGroup var output: ReportOutputOptions
    @OptionGroup var filters: ReportFilterOptions

    mutating func execute(console: Console) async throws -> ExitStatus {
        var filter = try filters.filter(allowing: ["since", "until", "registry", "namespace", "status", "limit"], command: "runs")
        if filter.limit == nil && output.format == .table { filter.limit = 50 }
        if filter.limit == 0 { filter.limit = nil }
        let rows = try await output.database.withReader { try await $0.runList(filter) }
        console.output(output.render(Reports.runs(rows), empty: "no runs match"))
        return .success
    }
}

struct FailuresReport: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "failures",
        abstract: "Failed jobs of a run (default: the latest, or every run in --since/--until): class, message, remedy."
    )

    @Argument(help: "Run id (default: the latest run, unless --since or --until is given).")
    var run: Int64?

    @OptionGroup var output: ReportOutputOptions
    @OptionGroup var filters: ReportFilterOptions

    mutating func execute(console: Console) async throws -> ExitStatus {
        let (run, filters) = (self.run, self.filters)
        let rows = try await output.database.withReader { store in
            try await store.failures(filters.runFilter(run, in: store, command: "failures",
                                                       allowing: ["since", "until", "registry", "namespace", "service", "class", "limit"]))
        }
        var text = output.render(Reports.failures(rows), empty: "no failed jobs")
        if output.format == .table && !rows.isEmpty {
            text += "\n\nwhat to do:\n" + Reports.remedyLines(rows).joined(separator: "\n")
        }
        console.output(text)
        return .success
    }
}

struct ServiceReport: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "service",
        abstract: "The history of one service across runs: every job, tag, action and digest."
    )

    @Argument(help: "The service name, as in the services file.")
    var name: String

    @OptionGroup var output: ReportOutputOptions
    @OptionGroup var filters: ReportFilterOptions

    mutating func execute(console: Console) async throws -> ExitStatus {
        let filter = try filters.filter(allowing: ["since", "until", "registry", "namespace", "status", "limit"],
                                        command: "service")
        let name = self.name
        let rows = try await output.database.withReader { try await $0.serviceHistory(name, filter) }
        console.output(output.render(Reports.service(rows), empty: "no jobs for service '\(name)'"))
        return .success
    }
}

struct StateReport: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "For every repository:tag ever pushed, the digest the log says it holds and which run last wrote or verified it."
    )

    @OptionGroup var output: ReportOutputOptions
    @OptionGroup var filters: ReportFilterOptions

    mutating func execute(console: Console) async throws -> ExitStatus {
        let filter = try filters.filter(allowing: ["since", "until", "registry", "namespace", "service", "limit"],
                                        command: "state")
        let rows = try await output.database.withReader { try await $0.state(filter) }
        console.output(output.render(Reports.state(rows), empty: "no tags recorded"))
        return .success
    }
}

struct AttemptsReport: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "attempts",
        abstract: "The raw attempt log of a run (default: the latest, or every run in --since/--until)."
    )

    @Argument(help: "Run id (default: the latest run, unless --since or --until is given).")
    var run: Int64?

    @OptionGroup var output: ReportOutputOptions
    @OptionGroup var filters: ReportFilterOptions

    mutating func execute(console: Console) async throws -> ExitStatus {
        let (run, filters) = (self.run, self.filters)
        let rows = try await output.database.withReader { store in
            try await store.attemptList(filters.runFilter(run, in: store, command: "attempts",
                                                    allowing: ["since", "until", "registry", "namespace", "service", "status",
                                                               "class", "limit"]))
        }
        console.output(output.render(Reports.attempts(rows), empty: "no attempts"))
        return .success
    }
}

struct ReleaseReport: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "What release VERSION pushed, per service: the digest its version tag got and whether latest moved to it."
    )

    @Argument(help: "The release version (the tag `stevedore push --version` wrote).")
    var version: String

    @OptionGroup var output: ReportOutputOptions
    @OptionGroup var filters: ReportFilterOptions

    mutating func execute(console: Console) async throws -> ExitStatus {
        let filter = try filters.filter(allowing: ["registry", "namespace", "service"], command: "release")
        let version = self.version
        let rows = try await output.database.withReader { try await $0.release(version, filter) }
        console.output(output.render(Reports.release(rows), empty: "no service was released as \(version)"))
        return .success
    }
}
