import AuditStore
import Foundation

/// The report queries. Each one reads through an index for its filters (see the EXPLAIN QUERY PLAN test).
extension SQLiteAuditStore {
    /// Runs, newest first, with their job counts.
    public func runList(_ filter: ReportFilter) async throws(AuditStoreError) -> [RunListRow] {
        let (sql, values) = Self.runListSQL(filter)
        let liveness = self.liveness
        return try await read { connection throws(AuditStoreError) in
            try connection.query(sql, values) { row in
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
    }

    static func runListSQL(_ filter: ReportFilter) -> (String, [SQLValue]) {
        var sql = """
            SELECT r.id, r.command, r.status, r.started_at, r.finished_at, r.user, r.host, r.input_file,
                   r.input_sha256, r.registry, r.namespace, r.parent_run_id,
                   (SELECT count(*) FROM jobs WHERE run_id = r.id),
                   (SELECT count(*) FROM jobs WHERE run_id = r.id AND status = 'succeeded'),
                   (SELECT count(*) FROM jobs WHERE run_id = r.id AND status = 'skipped'),
                   (SELECT count(*) FROM jobs WHERE run_id = r.id AND status = 'failed'),
                   (SELECT count(*) FROM jobs WHERE run_id = r.id AND status = 'cancelled'),
                   (SELECT count(*) FROM jobs WHERE run_id = r.id AND status IN ('pending', 'running')),
                   (SELECT coalesce(sum(attempts), 0) FROM jobs WHERE run_id = r.id), r.pid
            FROM runs r WHERE 1
            """
        var values: [SQLValue] = []
        Self.runConditions(filter, alias: "r", sql: &sql, values: &values)
        if let status = filter.status { sql += " AND r.status = ?"; values.append(.text(status)) }
        if let registry = filter.registry { sql += " AND r.registry = ?"; values.append(.text(registry)) }
        if let namespace = filter.namespace { sql += " AND r.namespace = ?"; values.append(.text(namespace)) }
        sql += " ORDER BY r.id DESC"
        if let limit = filter.limit { sql += " LIMIT \(max(limit, 0))" }
        return (sql, values)
    }

    /// Failed jobs with their class, message and last failed attempt, newest run first.
    public func failures(_ filter: ReportFilter) async throws(AuditStoreError) -> [FailureRow] {
        let (sql, values) = Self.failuresSQL(filter)
        return try await read { connection throws(AuditStoreError) in
            try connection.query(sql, values) { row in
                FailureRow(runID: row.int(0), jobID: row.int(1), service: row.text(2), registry: row.text(3),
                           repository: row.text(4), tags: JSONList.decode(row.text(5)), attempts: Int(row.int(6)),
                           errorClass: row.optionalText(7), message: row.optionalText(8),
                           httpStatus: row.optionalInt(9).map { Int($0) }, errorCode: row.optionalText(10),
                           finishedAt: row.optionalText(11))
            }
        }
    }

    /// Failed jobs through the partial index of failed jobs (named: the planner's estimate for the wider jobs rows of
    /// 0005 preferred a scan of jobs_run_status, which reads every job).
    static func failuresSQL(_ filter: ReportFilter) -> (String, [SQLValue]) {
        var sql = """
            SELECT j.run_id, j.id, j.service, j.registry, j.repository, j.items, j.attempts, j.error_class,
                   j.error_message, a.http_status, a.error_code, j.finished_at
            FROM jobs j INDEXED BY jobs_failed
            LEFT JOIN attempts a ON a.id = (SELECT max(a2.id) FROM attempts a2 WHERE a2.job_id = j.id AND a2.outcome <> 'succeeded')
            WHERE j.status = 'failed'
            """
        var values: [SQLValue] = []
        Self.jobConditions(filter, sql: &sql, values: &values, withStatus: false)
        sql += " ORDER BY j.run_id DESC, j.seq"
        if let limit = filter.limit { sql += " LIMIT \(max(limit, 0))" }
        return (sql, values)
    }

    /// Every job of one service across runs, oldest first, with what each did to each tag.
    public func serviceHistory(_ service: String, _ filter: ReportFilter) async throws(AuditStoreError) -> [ServiceHistoryRow] {
        let (sql, values) = Self.serviceSQL(service, filter)
        return try await read { connection throws(AuditStoreError) in
            let jobs = try connection.query(sql, values) { row in
                ServiceHistoryRow(runID: row.int(0), runCommand: row.text(1), runStartedAt: row.text(2), jobID: row.int(3),
                                  registry: row.text(4), repository: row.text(5),
                                  status: JobStatus(rawValue: row.text(6)) ?? .failed, attempts: Int(row.int(7)),
                                  errorClass: row.optionalText(8), errorMessage: row.optionalText(9),
                                  digest: row.optionalText(10), finishedAt: row.optionalText(11), tags: [])
            }
            return try jobs.map { job throws(AuditStoreError) in
                var job = job
                job.tags = try connection.query(Self.serviceTagsSQL, [.int(job.jobID)]) { row in
                    TagHistoryRow(tag: row.text(0), action: row.text(1),
                                  digestBefore: row.optionalText(2), digestAfter: row.optionalText(3),
                                  recordedAt: row.text(4))
                }
                return job
            }
        }
    }

    static let serviceTagsSQL = """
        SELECT item, action, digest_before, digest_after, recorded_at FROM item_results WHERE job_id = ? ORDER BY id
        """

    static func serviceSQL(_ service: String, _ filter: ReportFilter) -> (String, [SQLValue]) {
        var scoped = filter
        scoped.service = service
        var sql = """
            SELECT j.run_id, r.command, r.started_at, j.id, j.registry, j.repository, j.status, j.attempts,
                   j.error_class, j.error_message, j.digest, j.finished_at
            FROM jobs j JOIN runs r ON r.id = j.run_id WHERE 1
            """
        var values: [SQLValue] = []
        Self.jobConditions(scoped, sql: &sql, values: &values, withStatus: true)
        sql += " ORDER BY j.id"
        if let limit = filter.limit { sql = "SELECT * FROM (\(sql) DESC LIMIT \(max(limit, 0))) ORDER BY 4" }
        return (sql, values)
    }

    /// What the log says every registry/repository:tag holds now.
    public func state(_ filter: ReportFilter) async throws(AuditStoreError) -> [StateRow] {
        let (sql, values) = Self.stateSQL(filter)
        return try await read { connection throws(AuditStoreError) in
            try connection.query(sql, values) { row in
                var state = StateRow(registry: row.text(0), repository: row.text(1), tag: row.text(2),
                                     service: row.text(3), digest: row.optionalText(4), action: row.text(5),
                                     recordedAt: row.text(6), runID: row.int(7), jobID: row.int(8))
                state.source = row.optionalText(9)
                return state
            }
        }
    }

    static func stateSQL(_ filter: ReportFilter) -> (String, [SQLValue]) {
        var sql = """
            SELECT registry, repository, item, service, digest, action, recorded_at, run_id, job_id,
                   (SELECT source FROM jobs WHERE jobs.id = item_state.job_id) FROM item_state WHERE 1
            """
        var values: [SQLValue] = []
        if let registry = filter.registry { sql += " AND registry = ?"; values.append(.text(registry)) }
        if let namespace = filter.namespace {
            sql += " AND repository >= ? AND repository < ?"
            values += [.text(namespace + "/"), .text(namespace + "0")]
        }
        if let service = filter.service { sql += " AND service = ?"; values.append(.text(service)) }
        if let runID = filter.runID { sql += " AND run_id = ?"; values.append(.int(runID)) }
        if let since = filter.since { sql += " AND recorded_at >= ?"; values.append(.text(since)) }
        if let until = filter.until { sql += " AND recorded_at < ?"; values.append(.text(until)) }
        sql += " ORDER BY registry, repository, item"
        if let limit = filter.limit { sql += " LIMIT \(max(limit, 0))" }
        return (sql, values)
    }

    /// The raw attempt log, in the order attempts were written.
    public func attemptList(_ filter: ReportFilter) async throws(AuditStoreError) -> [AttemptListRow] {
        let (sql, values) = Self.attemptsSQL(filter)
        return try await read { connection throws(AuditStoreError) in
            try connection.query(sql, values) { row in
                AttemptListRow(runID: row.int(0), jobID: row.int(1), service: row.text(2), repository: row.text(3),
                               number: Int(row.int(4)), startedAt: row.text(5), durationMs: Int(row.int(6)),
                               outcome: AttemptOutcome(rawValue: row.text(7)) ?? .failed,
                               httpStatus: row.optionalInt(8).map { Int($0) }, errorCode: row.optionalText(9),
                               errorClass: row.optionalText(10), message: row.optionalText(11), requests: Int(row.int(12)),
                               bytesSent: Int(row.int(13)), waitMs: row.optionalInt(14).map { Int($0) },
                               waitReason: row.optionalText(15))
            }
        }
    }

    static func attemptsSQL(_ filter: ReportFilter) -> (String, [SQLValue]) {
        var sql = """
            SELECT j.run_id, a.job_id, j.service, j.repository, a.number, a.started_at, a.duration_ms, a.outcome,
                   a.http_status, a.error_code, a.error_class, a.message, a.requests, a.bytes_sent, a.wait_ms, a.wait_reason
            FROM jobs j JOIN attempts a ON a.job_id = j.id WHERE 1
            """
        var values: [SQLValue] = []
        var jobFilter = filter
        jobFilter.errorClass = nil
        Self.jobConditions(jobFilter, sql: &sql, values: &values, withStatus: true)
        if let errorClass = filter.errorClass { sql += " AND a.error_class = ?"; values.append(.text(errorClass)) }
        sql += " ORDER BY a.id"
        if let limit = filter.limit { sql = "SELECT * FROM (\(sql) DESC LIMIT \(max(limit, 0))) ORDER BY 6, 2, 5" }
        return (sql, values)
    }

    // MARK: Conditions

    /// Time window on a run's start.
    static func runConditions(_ filter: ReportFilter, alias: String, sql: inout String, values: inout [SQLValue]) {
        if let since = filter.since { sql += " AND \(alias).started_at >= ?"; values.append(.text(since)) }
        if let until = filter.until { sql += " AND \(alias).started_at < ?"; values.append(.text(until)) }
        if let runID = filter.runID { sql += " AND \(alias).id = ?"; values.append(.int(runID)) }
    }

    /// Conditions on the jobs table `j`; the time window selects runs through `runs_started_at`.
    static func jobConditions(_ filter: ReportFilter, sql: inout String, values: inout [SQLValue], withStatus: Bool) {
        if let runID = filter.runID { sql += " AND j.run_id = ?"; values.append(.int(runID)) }
        if filter.since != nil || filter.until != nil {
            sql += " AND j.run_id IN (SELECT id FROM runs WHERE 1"
            if let since = filter.since { sql += " AND started_at >= ?"; values.append(.text(since)) }
            if let until = filter.until { sql += " AND started_at < ?"; values.append(.text(until)) }
            sql += ")"
        }
        if let service = filter.service { sql += " AND j.service = ?"; values.append(.text(service)) }
        if let registry = filter.registry { sql += " AND j.registry = ?"; values.append(.text(registry)) }
        if let namespace = filter.namespace {
            sql += " AND j.repository >= ? AND j.repository < ?"
            values += [.text(namespace + "/"), .text(namespace + "0")]
        }
        if withStatus, let status = filter.status { sql += " AND j.status = ?"; values.append(.text(status)) }
        if let errorClass = filter.errorClass { sql += " AND j.error_class = ?"; values.append(.text(errorClass)) }
    }

    static func milliseconds(from start: String, to end: String?) -> Int? {
        guard let end, let from = Timestamp.date(start), let to = Timestamp.date(end) else { return nil }
        return Int((to.timeIntervalSince(from) * 1000).rounded())
    }
}

extension SQLiteAuditStore {
    /// The `EXPLAIN QUERY PLAN` details of a statement, for the tests that keep reports off full scans.
    func queryPlan(_ sql: String, _ values: [SQLValue]) async throws(AuditStoreError) -> [String] {
        try await read { connection throws(AuditStoreError) in
            try connection.query("EXPLAIN QUERY PLAN " + sql, values) { $0.text(3) }
        }
    }
}
