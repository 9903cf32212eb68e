import AuditStore
import Foundation

/// The report queries, row for row those of the SQLite store.
extension PostgresAuditStore {
    public func runList(_ filter: ReportFilter) async throws(AuditStoreError) -> [RunListRow] {
        var statement = SQLStatement("""
            SELECT r.id, r.command, r.status, r.started_at, r.finished_at, r."user", r.host, r.input_file,
                   r.input_sha256, r.registry, r.namespace, r.parent_run_id,
                   (SELECT count(*) FROM jobs WHERE run_id = r.id),
                   (SELECT count(*) FROM jobs WHERE run_id = r.id AND status = 'succeeded'),
                   (SELECT count(*) FROM jobs WHERE run_id = r.id AND status = 'skipped'),
                   (SELECT count(*) FROM jobs WHERE run_id = r.id AND status = 'failed'),
                   (SELECT count(*) FROM jobs WHERE run_id = r.id AND status = 'cancelled'),
                   (SELECT count(*) FROM jobs WHERE run_id = r.id AND status IN ('pending', 'running')),
                   (SELECT coalesce(sum(attempts), 0)::bigint FROM jobs WHERE run_id = r.id), r.pid
            FROM runs r WHERE true
            """)
        Self.runConditions(filter, alias: "r", &statement)
        if let status = filter.status { statement.sql += " AND r.status = \(statement.bind(.text(status)))" }
        if let registry = filter.registry { statement.sql += " AND r.registry = \(statement.bind(.text(registry)))" }
        if let namespace = filter.namespace { statement.sql += " AND r.namespace = \(statement.bind(.text(namespace)))" }
        statement.sql += " ORDER BY r.id DESC"
        if let limit = filter.limit { statement.sql += " LIMIT \(max(limit, 0))" }
        let liveness = self.liveness
        return try await rows(statement.sql, statement.values).map { row in
            let started = row.text(3), finished = row.optionalText(4)
            var status = RunStatus(rawValue: row.text(2)) ?? .failed
            if status == .running, let liveness, liveness.host == row.text(6),
               !(row.optionalInt(19).map { liveness.isAlive(Int32($0)) } ?? false) {
                status = .died
            }
            return RunListRow(
                runID: row.int(0), command: row.text(1), status: status,
                startedAt: started, finishedAt: finished, durationMs: Self.milliseconds(from: started, to: finished),
                user: row.text(5), host: row.text(6), inputFile: row.optionalText(7), inputSHA256: row.optionalText(8),
                registry: row.optionalText(9), namespace: row.optionalText(10), parentRunID: row.optionalInt(11),
                jobsTotal: Int(row.int(12)), jobsSucceeded: Int(row.int(13)), jobsSkipped: Int(row.int(14)),
                jobsFailed: Int(row.int(15)), jobsCancelled: Int(row.int(16)), jobsPending: Int(row.int(17)),
                attempts: Int(row.int(18)))
        }
    }

    public func failures(_ filter: ReportFilter) async throws(AuditStoreError) -> [FailureRow] {
        var statement = SQLStatement("""
            SELECT j.run_id, j.id, j.service, j.registry, j.repository, j.items, j.attempts, j.error_class,
                   j.error_message, a.http_status, a.error_code, j.finished_at
            FROM jobs j
            LEFT JOIN attempts a ON a.id = (SELECT max(a2.id) FROM attempts a2 WHERE a2.job_id = j.id AND a2.outcome <> 'succeeded')
            WHERE j.status = 'failed'
            """)
        Self.jobConditions(filter, &statement, withStatus: false)
        statement.sql += " ORDER BY j.run_id DESC, j.seq"
        if let limit = filter.limit { statement.sql += " LIMIT \(max(limit, 0))" }
        return try await rows(statement.sql, statement.values).map { row in
            FailureRow(runID: row.int(0), jobID: row.int(1), service: row.text(2), registry: row.text(3),
                       repository: row.text(4), tags: JSONList.decode(row.text(5)), attempts: Int(row.int(6)),
                       errorClass: row.optionalText(7), message: row.optionalText(8),
                       httpStatus: row.optionalInt(9).map { Int($0) }, errorCode: row.optionalText(10),
                       finishedAt: row.optionalText(11))
        }
    }

    public func serviceHistory(_ service: String, _ filter: ReportFilter) async throws(AuditStoreError) -> [ServiceHistoryRow] {
        var scoped = filter
        scoped.service = service
        var statement = SQLStatement("""
            SELECT j.run_id, r.command, r.started_at, j.id, j.registry, j.repository, j.status, j.attempts,
                   j.error_class, j.error_message, j.digest, j.finished_at
            FROM jobs j JOIN runs r ON r.id = j.run_id WHERE true
            """)
        Self.jobConditions(scoped, &statement, withStatus: true)
        statement.sql += " ORDER BY j.id"
        if let limit = filter.limit {
            statement.sql = "SELECT * FROM (\(statement.sql) DESC LIMIT \(max(limit, 0))) AS newest ORDER BY 4"
        }
        var jobs = try await rows(statement.sql, statement.values).map { row in
            ServiceHistoryRow(runID: row.int(0), runCommand: row.text(1), runStartedAt: row.text(2), jobID: row.int(3),
                              registry: row.text(4), repository: row.text(5),
                              status: JobStatus(rawValue: row.text(6)) ?? .failed, attempts: Int(row.int(7)),
                              errorClass: row.optionalText(8), errorMessage: row.optionalText(9),
                              digest: row.optionalText(10), finishedAt: row.optionalText(11), tags: [])
        }
        for index in jobs.indices {
            jobs[index].tags = try await rows("""
                SELECT item, action, digest_before, digest_after, recorded_at FROM item_results WHERE job_id = $1 ORDER BY id
                """, [.int(jobs[index].jobID)]).map { row in
                TagHistoryRow(tag: row.text(0), action: row.text(1), digestBefore: row.optionalText(2),
                              digestAfter: row.optionalText(3), recordedAt: row.text(4))
            }
        }
        return jobs
    }

    public func state(_ filter: ReportFilter) async throws(AuditStoreError) -> [StateRow] {
        var statement = SQLStatement("""
            SELECT registry, repository, item, service, digest, action, recorded_at, run_id, job_id,
                   (SELECT source FROM jobs WHERE jobs.id = item_state.job_id) FROM item_state WHERE true
            """)
        if let registry = filter.registry { statement.sql += " AND registry = \(statement.bind(.text(registry)))" }
        if let namespace = filter.namespace {
            statement.sql += " AND repository >= \(statement.bind(.text(namespace + "/")))"
                + " AND repository < \(statement.bind(.text(namespace + "0")))"
        }
        if let service = filter.service { statement.sql += " AND service = \(statement.bind(.text(service)))" }
        if let runID = filter.runID { statement.sql += " AND run_id = \(statement.bind(.int(runID)))" }
        if let since = filter.since { statement.sql += " AND recorded_at >= \(statement.bind(.text(since)))" }
        if let until = filter.until { statement.sql += " AND recorded_at < \(statement.bind(.text(until)))" }
        statement.sql += " ORDER BY registry, repository, item"
        if let limit = filter.limit { statement.sql += " LIMIT \(max(limit, 0))" }
        return try await rows(statement.sql, statement.values).map { row in
            var state = StateRow(registry: row.text(0), repository: row.text(1), tag: row.text(2), service: row.text(3),
                                 digest: row.optionalText(4), action: row.text(5), recordedAt: row.text(6),
                                 runID: row.int(7), jobID: row.int(8))
            state.source = row.optionalText(9)
            return state
        }
    }

    public func attemptList(_ filter: ReportFilter) async throws(AuditStoreError) -> [AttemptListRow] {
        var statement = SQLStatement("""
            SELECT j.run_id, a.job_id, j.service, j.repository, a.number, a.started_at, a.duration_ms, a.outcome,
                   a.http_status, a.error_code, a.error_class, a.message, a.requests, a.bytes_sent, a.wait_ms, a.wait_reason
            FROM jobs j JOIN attempts a ON a.job_id = j.id WHERE true
            """)
        var jobFilter = filter
        jobFilter.errorClass = nil
        Self.jobConditions(jobFilter, &statement, withStatus: true)
        if let errorClass = filter.errorClass { statement.sql += " AND a.error_class = \(statement.bind(.text(errorClass)))" }
        statement.sql += " ORDER BY a.id"
        if let limit = filter.limit {
            statement.sql = "SELECT * FROM (\(statement.sql) DESC LIMIT \(max(limit, 0))) AS newest ORDER BY 6, 2, 5"
        }
        return try await rows(statement.sql, statement.values).map { row in
            AttemptListRow(runID: row.int(0), jobID: row.int(1), service: row.text(2), repository: row.text(3),
                           number: Int(row.int(4)), startedAt: row.text(5), durationMs: Int(row.int(6)),
                           outcome: AttemptOutcome(rawValue: row.text(7)) ?? .failed,
                           httpStatus: row.optionalInt(8).map { Int($0) }, errorCode: row.optionalText(9),
                           errorClass: row.optionalText(10), message: row.optionalText(11), requests: Int(row.int(12)),
                           bytesSent: Int(row.int(13)), waitMs: row.optionalInt(14).map { Int($0) },
                           waitReason: row.optionalText(15))
        }
    }

    // MARK: Conditions

    static func runConditions(_ filter: ReportFilter, alias: String, _ statement: inout SQLStatement) {
        if let since = filter.since { statement.sql += " AND \(alias).started_at >= \(statement.bind(.text(since)))" }
        if let until = filter.until { statement.sql += " AND \(alias).started_at < \(statement.bind(.text(until)))" }
        if let runID = filter.runID { statement.sql += " AND \(alias).id = \(statement.bind(.int(runID)))" }
    }

    static func jobConditions(_ filter: ReportFilter, _ statement: inout SQLStatement, withStatus: Bool) {
        if let runID = filter.runID { statement.sql += " AND j.run_id = \(statement.bind(.int(runID)))" }
        if filter.since != nil || filter.until != nil {
            statement.sql += " AND j.run_id IN (SELECT id FROM runs WHERE true"
            if let since = filter.since { statement.sql += " AND started_at >= \(statement.bind(.text(since)))" }
            if let until = filter.until { statement.sql += " AND started_at < \(statement.bind(.text(until)))" }
            statement.sql += ")"
        }
        if let service = filter.service { statement.sql += " AND j.service = \(statement.bind(.text(service)))" }
        if let registry = filter.registry { statement.sql += " AND j.registry = \(statement.bind(.text(registry)))" }
        if let namespace = filter.namespace {
            statement.sql += " AND j.repository >= \(statement.bind(.text(namespace + "/")))"
                + " AND j.repository < \(statement.bind(.text(namespace + "0")))"
        }
        if withStatus, let status = filter.status { statement.sql += " AND j.status = \(statement.bind(.text(status)))" }
        if let errorClass = filter.errorClass { statement.sql += " AND j.error_class = \(statement.bind(.text(errorClass)))" }
    }
}
