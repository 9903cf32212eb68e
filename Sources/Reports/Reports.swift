import AuditStore

/// Turns the audit store's report rows into ``ReportTable``s. The column keys are the documented JSON
/// and CSV contract (docs/REPORTS.md): columns are added over time, never renamed.
public enum Reports {
    public static func runs(_ rows: [RunListRow]) -> ReportTable {
        ReportTable(columns: [
            .init("run_id", title: "RUN", maxWidth: 6),
            .init("command", title: "COMMAND", maxWidth: 9),
            .init("status", title: "STATUS", maxWidth: 11),
            .init("started_at", title: "STARTED", maxWidth: 16, display: .minute),
            .init("finished_at"),
            .init("duration_ms", title: "SECS", maxWidth: 7, display: .seconds),
            .init("user"), .init("host"),
            .init("input_file"),
            .init("input_name", title: "INPUT", maxWidth: 30, flexible: true),
            .init("input_sha256"), .init("registry"), .init("namespace"), .init("parent_run_id"),
            .init("jobs_total", title: "JOBS", maxWidth: 6),
            .init("jobs_succeeded"),
            .init("jobs_skipped"),
            .init("jobs_failed", title: "FAIL", maxWidth: 6),
            .init("jobs_cancelled"), .init("jobs_pending"), .init("attempts"),
        ], rows: rows.map { run in
            [.int(Int(run.runID)), .text(run.command), .text(run.status.rawValue), .text(run.startedAt),
             .text(run.finishedAt), .int(run.durationMs), .text(run.user), .text(run.host),
             .text(run.inputFile), .text(run.inputFile.map { String($0.split(separator: "/").last ?? "") }),
             .text(run.inputSHA256), .text(run.registry), .text(run.namespace),
             .int(run.parentRunID.map { Int($0) }), .int(run.jobsTotal), .int(run.jobsSucceeded), .int(run.jobsSkipped),
             .int(run.jobsFailed), .int(run.jobsCancelled), .int(run.jobsPending), .int(run.attempts)]
        })
    }

    public static func failures(_ rows: [FailureRow]) -> ReportTable {
        ReportTable(columns: [
            .init("run_id", title: "RUN", maxWidth: 5),
            .init("job_id"),
            .init("service", title: "SERVICE", maxWidth: 18),
            .init("registry"), .init("repository"), .init("tags"),
            .init("attempts", title: "TRIES", maxWidth: 5),
            .init("error_class", title: "CLASS", maxWidth: 19),
            .init("http_status"), .init("error_code"),
            .init("message", title: "MESSAGE", maxWidth: 200, flexible: true),
            .init("finished_at"), .init("remedy"),
        ], rows: rows.map { row in
            [.int(Int(row.runID)), .int(Int(row.jobID)), .text(row.service), .text(row.registry), .text(row.repository),
             .list(row.tags), .int(row.attempts), .text(row.errorClass), .int(row.httpStatus), .text(row.errorCode),
             .text(row.message), .text(row.finishedAt), .text(Remedies.text(for: row.errorClass))]
        })
    }

    /// The remedies for the classes in `rows`, for under the failures table, wrapped to `width` columns.
    public static func remedyLines(_ rows: [FailureRow], width: Int = 80) -> [String] {
        var seen: [String] = []
        for row in rows where !seen.contains(row.errorClass ?? "internal") { seen.append(row.errorClass ?? "internal") }
        return seen.flatMap { wrap("\($0): \(Remedies.text(for: $0))", width: width, indent: "  ") }
    }

    /// Words of `text` in lines of at most `width` columns; continuation lines get `indent` twice.
    static func wrap(_ text: String, width: Int, indent: String) -> [String] {
        var lines: [String] = []
        var line = indent
        for word in text.split(separator: " ") {
            let start = lines.isEmpty ? indent : indent + indent
            if line.count > start.count && line.count + 1 + word.count > width {
                lines.append(line)
                line = indent + indent
            }
            line += (line == indent || line == indent + indent ? "" : " ") + word
        }
        lines.append(line)
        return lines
    }

    /// One row per job and tag.
    public static func service(_ rows: [ServiceHistoryRow]) -> ReportTable {
        var cells: [[ReportTable.Cell]] = []
        for job in rows {
            let tags = job.tags.isEmpty ? [nil] : job.tags.map(Optional.some)
            for tag in tags {
                cells.append([
                    .int(Int(job.runID)), .text(job.runCommand), .text(job.runStartedAt), .int(Int(job.jobID)),
                    .text(job.registry), .text(job.repository), .text(job.status.rawValue), .int(job.attempts),
                    .text(job.errorClass), .text(job.errorMessage), .text(tag?.tag), .text(tag?.action),
                    .text(tag?.digestBefore), .text(tag?.digestAfter ?? (tag == nil ? job.digest : nil)),
                    .text(tag?.recordedAt ?? job.finishedAt),
                ])
            }
        }
        return ReportTable(columns: [
            .init("run_id", title: "RUN", maxWidth: 5),
            .init("run_command"),
            .init("run_started_at", title: "STARTED", maxWidth: 16, display: .minute),
            .init("job_id"), .init("registry"), .init("repository"),
            .init("status", title: "STATUS", maxWidth: 9),
            .init("attempts"), .init("error_class"), .init("error_message"),
            .init("tag", title: "TAG", maxWidth: 14, flexible: true),
            .init("action", title: "ACTION", maxWidth: 11),
            .init("digest_before"),
            .init("digest", title: "DIGEST", maxWidth: 19, display: .shortDigest),
            .init("recorded_at"),
        ], rows: cells)
    }

    /// `report release V`: per service, the digest the version tag got and the tags that moved to it.
    public static func release(_ rows: [ReleaseRow]) -> ReportTable {
        ReportTable(columns: [
            .init("service"), .init("registry"), .init("repository"),
            .init("reference", title: "REPOSITORY:VERSION", maxWidth: 60, flexible: true),
            .init("status", maxWidth: 10),
            .init("digest", title: "DIGEST", maxWidth: 19, display: .shortDigest),
            .init("moved", title: "MOVED", maxWidth: 20),
            .init("error_class", title: "CLASS", maxWidth: 14),
            .init("source"),
            .init("run_id", title: "RUN", maxWidth: 6),
            .init("job_id"),
        ], rows: rows.map { row in
            [.text(row.service), .text(row.registry), .text(row.repository), .text("\(row.repository):\(row.version)"),
             .text(row.status), .text(row.digest), .list(row.moved),
             .text(row.errorClass), .text(row.source), .int(Int(row.runID)), .int(Int(row.jobID))]
        })
    }

    public static func state(_ rows: [StateRow]) -> ReportTable {
        ReportTable(columns: [
            .init("registry"), .init("repository"), .init("tag"),
            .init("reference", title: "REPOSITORY:TAG", maxWidth: 60, flexible: true),
            .init("service"),
            .init("digest", title: "DIGEST", maxWidth: 19, display: .shortDigest),
            .init("action", title: "LAST", maxWidth: 11),
            .init("recorded_at"),
            .init("run_id", title: "RUN", maxWidth: 6),
            .init("job_id"),
            .init("source"),
        ], rows: rows.map { row in
            [.text(row.registry), .text(row.repository), .text(row.tag), .text("\(row.repository):\(row.tag)"),
             .text(row.service), .text(row.digest), .text(row.action),
             .text(row.recordedAt), .int(Int(row.runID)), .int(Int(row.jobID)), .text(row.source)]
        })
    }

    public static func attempts(_ rows: [AttemptListRow]) -> ReportTable {
        ReportTable(columns: [
            .init("run_id", title: "RUN", maxWidth: 5), .init("job_id"),
            .init("service", title: "SERVICE", maxWidth: 16),
            .init("repository"),
            .init("number", title: "#", maxWidth: 3),
            .init("started_at"),
            .init("duration_ms", title: "MS", maxWidth: 6),
            .init("outcome", title: "OUTCOME", maxWidth: 9),
            .init("http_status", title: "HTTP", maxWidth: 4),
            .init("error_code"),
            .init("error_class", title: "CLASS", maxWidth: 19, flexible: true),
            .init("message"), .init("requests"), .init("bytes_sent"), .init("wait_ms"), .init("wait_reason"),
        ], rows: rows.map { row in
            [.int(Int(row.runID)), .int(Int(row.jobID)), .text(row.service), .text(row.repository), .int(row.number),
             .text(row.startedAt), .int(row.durationMs), .text(row.outcome.rawValue), .int(row.httpStatus),
             .text(row.errorCode), .text(row.errorClass), .text(row.message), .int(row.requests), .int(row.bytesSent),
             .int(row.waitMs), .text(row.waitReason)]
        })
    }
}
