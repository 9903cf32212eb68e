import ArgumentParser
import AuditStore
import Foundation
import Reports

enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv
}

/// `--format` and the database, shared by every report.
struct ReportOutputOptions: ParsableArguments {
    @Option(help: "Output format: table (80 columns), json or csv.")
    var format: ReportFormat = .table

    @OptionGroup var database: DatabaseOptions

    /// The rendered report; a table says so when there are no rows.
    func render(_ table: ReportTable, empty: String) -> String {
        switch format {
        case .table: table.rows.isEmpty ? empty : table.table(width: 80)
        case .json: table.json()
        case .csv: table.csv()
        }
    }
}

/// The filters of the list reports. Each report accepts the ones that make sense for it.
struct ReportFilterOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Runs started at or after: 2026-11-01, 2026-11-01T12:00Z, or an age like 7d, 12h, 1h30m.", valueName: "time"))
    var since: String?

    @Option(help: ArgumentHelp("Runs started before this time (same forms as --since).", valueName: "time"))
    var until: String?

    @Option(help: ArgumentHelp("Only this registry host[:port].", valueName: "host"))
    var registry: String?

    @Option(help: ArgumentHelp("Only repositories under this namespace (org or org/team).", valueName: "ns"))
    var namespace: String?

    @Option(help: "Only this service.")
    var service: String?

    @Option(help: ArgumentHelp("Only this status (run status for report runs, job status otherwise).", valueName: "status"))
    var status: String?

    @Option(name: .customLong("class"), help: ArgumentHelp("Only this error class (see the README's table).", valueName: "class"))
    var errorClass: String?

    @Option(help: "At most this many rows, the newest.")
    var limit: Int?

    /// The filter, after checking that only `allowed` options were given and the times parse.
    func filter(allowing allowed: Set<String>, command: String, run: RunID? = nil) throws -> ReportFilter {
        let given: [(String, Bool)] = [
            ("since", since != nil), ("until", until != nil), ("registry", registry != nil), ("namespace", namespace != nil),
            ("service", service != nil), ("status", status != nil), ("class", errorClass != nil), ("limit", limit != nil),
        ]
        for (name, present) in given where present && !allowed.contains(name) {
            throw CommandError("--\(name) does not apply to report \(command)", status: .usage)
        }
        if let limit, limit < 0 { throw CommandError("--limit must be 0 or more", status: .usage) }
        return ReportFilter(since: try since.map { try Self.time($0, "--since") },
                            until: try until.map { try Self.time($0, "--until") },
                            registry: registry, namespace: namespace.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 },
                            service: service, status: status, errorClass: errorClass, runID: run, limit: limit)
    }

    /// The filter of a report about one run's jobs: RUN if given, else the `--since`/`--until` window across
    /// runs, else the latest run.
    func runFilter(_ run: Int64?, in store: any AuditReader, command: String, allowing allowed: Set<String>) async throws -> ReportFilter {
        var filter = try filter(allowing: allowed, command: command)
        if run != nil || (filter.since == nil && filter.until == nil) { filter.runID = try await resolveRun(run, in: store) }
        return filter
    }

    static func time(_ text: String, _ flag: String) throws -> String {
        guard let stamp = ReportFilter.timestamp(text) else {
            throw CommandError("\(flag) '\(text)' is not a date (2026-11-01), a UTC time (2026-11-01T12:00Z) or an age (7d, 12h, 1h30m)", status: .usage)
        }
        return stamp
    }
}
