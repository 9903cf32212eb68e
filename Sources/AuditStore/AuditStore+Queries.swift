import Foundation

/// Read access to the audit log.
extension AuditStore {
    static let runColumns = """
        id, command, command_line, tool_version, host, user, input_file, input_sha256, registry, namespace, status,
        started_at, finished_at, parent_run_id, pid
        """

    static func runRow(_ row: Row) -> RunRow {
        RunRow(id: row.int(0), command: row.text(1), commandLine: row.text(2), toolVersion: row.text(3), host: row.text(4),
               user: row.text(5), inputFile: row.optionalText(6), inputSHA256: row.optionalText(7),
               registry: row.optionalText(8), namespace: row.optionalText(9),
               status: RunStatus(rawValue: row.text(10)) ?? .failed, startedAt: row.text(11),
               finishedAt: row.optionalText(12), parentRunID: row.optionalInt(13), pid: row.optionalInt(14).map { Int32($0) })
    }

    public func latestRunID(command: String? = nil) throws(AuditStoreError) -> RunID? {
        try locked { connection throws(AuditStoreError) in
            if let command {
                return try connection.query("SELECT max(id) FROM runs WHERE command = ?", [.text(command)]) { $0.optionalInt(0) }.first ?? nil
            }
            return try connection.query("SELECT max(id) FROM runs") { $0.optionalInt(0) }.first ?? nil
        }
    }

    /// The newest run for which `fits` is true.
    public func latestRun(where fits: (RunRow) -> Bool) throws(AuditStoreError) -> RunRow? {
        let runs = try locked { connection throws(AuditStoreError) in
            try connection.query("SELECT \(Self.runColumns) FROM runs ORDER BY id DESC LIMIT 1000", [], Self.runRow)
        }
        return runs.first(where: fits)
    }

    public func run(_ id: RunID) throws(AuditStoreError) -> RunRow? {
        try locked { connection throws(AuditStoreError) in
            try connection.query("SELECT \(Self.runColumns) FROM runs WHERE id = ?", [.int(id)], Self.runRow).first
        }
    }

    public func jobs(run: RunID) throws(AuditStoreError) -> [JobRow] {
        try locked { connection throws(AuditStoreError) in
            try connection.query("""
                SELECT id, run_id, seq, service, registry, repository, tags, status, attempts, error_class, error_message,
                       digest, started_at, finished_at, duration_ms
                FROM jobs WHERE run_id = ? ORDER BY seq
                """, [.int(run)]) { row in
                JobRow(id: row.int(0), runID: row.int(1), seq: Int(row.int(2)), service: row.text(3), registry: row.text(4),
                       repository: row.text(5), tags: JSONList.decode(row.text(6)),
                       status: JobStatus(rawValue: row.text(7)) ?? .failed, attempts: Int(row.int(8)),
                       errorClass: row.optionalText(9), errorMessage: row.optionalText(10), digest: row.optionalText(11),
                       startedAt: row.optionalText(12), finishedAt: row.optionalText(13),
                       durationMs: row.optionalInt(14).map { Int($0) })
            }
        }
    }

    public func attempts(job: JobID) throws(AuditStoreError) -> [AttemptRecord] {
        try locked { connection throws(AuditStoreError) in
            try connection.query("""
                SELECT job_id, number, started_at, duration_ms, outcome, http_status, error_code, error_class, message,
                       requests, bytes_sent, wait_ms, wait_reason
                FROM attempts WHERE job_id = ? ORDER BY number
                """, [.int(job)]) { row in
                AttemptRecord(jobID: row.int(0), number: Int(row.int(1)),
                              startedAt: Timestamp.date(row.text(2)) ?? Date(timeIntervalSince1970: 0),
                              durationMs: Int(row.int(3)), outcome: AttemptOutcome(rawValue: row.text(4)) ?? .failed,
                              httpStatus: row.optionalInt(5).map { Int($0) }, errorCode: row.optionalText(6),
                              errorClass: row.optionalText(7), message: row.optionalText(8), requests: Int(row.int(9)),
                              bytesSent: Int(row.int(10)), waitMs: row.optionalInt(11).map { Int($0) },
                              waitReason: row.optionalText(12))
            }
        }
    }

    public func tagResults(job: JobID) throws(AuditStoreError) -> [TagResult] {
        try locked { connection throws(AuditStoreError) in
            try connection.query("""
                SELECT job_id, tag, action, digest_before, digest_after, recorded_at FROM tag_results
                WHERE job_id = ? ORDER BY id
                """, [.int(job)]) { row in
                TagResult(jobID: row.int(0), tag: row.text(1), action: TagAction(rawValue: row.text(2)) ?? .planned,
                          digestBefore: row.optionalText(3), digestAfter: row.optionalText(4),
                          at: Timestamp.date(row.text(5)) ?? Date(timeIntervalSince1970: 0))
            }
        }
    }

    /// Counts of one run, from its jobs, attempts and tag results. `details: false` leaves out what needs a
    /// pass over every attempt (retries and latency, waits, requests, bytes, audit time, ledger head).
    public func summary(run id: RunID, details: Bool = true) throws(AuditStoreError) -> RunSummary? {
        guard let run = try run(id) else { return nil }
        return try locked { connection throws(AuditStoreError) in
            let jobs = try connection.query("""
                SELECT count(*), sum(status = 'succeeded'), sum(status = 'skipped'), sum(status = 'failed'),
                       sum(status = 'cancelled'), sum(status IN ('pending', 'running'))
                FROM jobs WHERE run_id = ?
                """, [.int(id)]) { row in (0..<6).map { Int(row.optionalInt(Int32($0)) ?? 0) } }.first ?? []
            let attempts = try connection.query("""
                SELECT count(*), sum(a.outcome = 'failed') FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = ?
                """, [.int(id)]) { row in [Int(row.int(0)), Int(row.optionalInt(1) ?? 0)] }.first ?? [0, 0]
            let tags = try connection.query("""
                SELECT sum(t.action IN ('pushed', 'overwritten')), sum(t.action = 'skipped'), sum(t.action = 'kept')
                FROM tag_results t JOIN jobs j ON j.id = t.job_id WHERE j.run_id = ?
                """, [.int(id)]) { row in (0..<3).map { Int(row.optionalInt(Int32($0)) ?? 0) } }.first ?? [0, 0, 0]
            var summary = RunSummary(runID: id, status: run.status, command: run.command, jobsTotal: jobs[0],
                                     jobsSucceeded: jobs[1], jobsSkipped: jobs[2], jobsFailed: jobs[3],
                                     jobsCancelled: jobs[4], jobsPending: jobs[5], attemptsTotal: attempts[0],
                                     attemptsFailed: attempts[1], tagsPushed: tags[0], tagsSkipped: tags[1],
                                     tagsKept: tags[2], startedAt: run.startedAt, finishedAt: run.finishedAt,
                                     inputFile: run.inputFile, registry: run.registry, namespace: run.namespace)
            if details { try Self.addDetails(to: &summary, connection) }
            return summary
        }
    }

    /// A repository on `registry` the log says holds the image with manifest `digest`, to mount its blobs from.
    public func knownHolder(registry: String, digest: String) throws(AuditStoreError) -> String? {
        try locked { connection throws(AuditStoreError) in
            try connection.query("""
                SELECT j.repository FROM tag_results t JOIN jobs j ON j.id = t.job_id
                WHERE t.digest_after = ? AND j.registry = ? AND t.action IN ('pushed', 'skipped', 'overwritten', 'verified')
                ORDER BY t.id DESC LIMIT 1
                """, [.text(digest), .text(registry)]) { $0.text(0) }.first
        }
    }

    /// Retries, waits, requests, bytes, latency percentiles, wall and audit time, the ledger head.
    static func addDetails(to summary: inout RunSummary, _ connection: Connection) throws(AuditStoreError) {
        let id = SQLValue.int(summary.runID)
        let totals = try connection.query("""
            SELECT coalesce(sum(max(attempts - 1, 0)), 0) FROM jobs WHERE run_id = ?
            """, [id]) { Int($0.int(0)) }.first ?? 0
        summary.retries = totals
        for (key, count) in try connection.query("""
            SELECT error_class, count(*) FROM jobs WHERE run_id = ? AND status IN ('failed', 'cancelled')
            AND error_class IS NOT NULL GROUP BY error_class
            """, [id], { ($0.text(0), Int($0.int(1))) }) { summary.jobsByErrorClass[key] = count }
        var durations: [Int] = []
        try connection.each("""
            SELECT a.duration_ms, a.outcome, a.error_class, a.wait_ms, a.requests, a.bytes_sent
            FROM jobs j JOIN attempts a ON a.job_id = j.id WHERE j.run_id = ?
            """, [id]) { row throws(AuditStoreError) in
            durations.append(Int(row.int(0)))
            if row.text(1) != "succeeded", let errorClass = row.optionalText(2) {
                summary.attemptsByErrorClass[errorClass, default: 0] += 1
            }
            summary.retryWaitMs += Int(row.optionalInt(3) ?? 0)
            summary.requests += Int(row.int(4))
            summary.bytesSent += Int(row.int(5))
        }
        durations.sort()
        if !durations.isEmpty {
            summary.attemptLatencyP50Ms = durations[(durations.count - 1) * 50 / 100]
            summary.attemptLatencyP95Ms = durations[(durations.count - 1) * 95 / 100]
            summary.attemptLatencyMaxMs = durations.last
        }
        let pauses = try connection.query("SELECT count(*), coalesce(sum(duration_ms), 0) FROM limiter_pauses WHERE run_id = ?",
                                          [id]) { (Int($0.int(0)), Int($0.int(1))) }.first ?? (0, 0)
        summary.rateLimitPauses = pauses.0
        summary.rateLimitWaitMs = pauses.1
        summary.wallMs = milliseconds(from: summary.startedAt, to: summary.finishedAt)
        let audit = try connection.query("SELECT audit_write_ms, audit_cpu_ms FROM runs WHERE id = ?", [id]) {
            ($0.optionalInt(0).map { Int($0) }, $0.optionalInt(1).map { Int($0) })
        }.first
        summary.auditWriteMs = audit?.0 ?? nil
        summary.auditCPUMs = audit?.1 ?? nil
        summary.ledgerRunHead = try connection.query(
            "SELECT run_hash FROM ledger WHERE run_id = ? ORDER BY id DESC LIMIT 1", [id]) { $0.blob(0).hexString }.first
    }
}
