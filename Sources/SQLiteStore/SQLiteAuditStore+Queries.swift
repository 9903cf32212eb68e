import AuditStore
import Checksums
import Foundation

/// Reads a run needs while it goes on, and the summary of a run.
extension SQLiteAuditStore {
    static let runColumns = """
        id, command, command_line, tool_version, host, user, input_file, input_sha256, registry, namespace, options,
        status, started_at, finished_at, parent_run_id, pid
        """

    /// A run row, with `running` shown as `died` when ``Liveness`` says its process on this host is gone.
    static func runRow(_ row: Row, _ liveness: Liveness?) -> RunRow {
        let pid = row.optionalInt(15).map { Int32($0) }
        let host = row.text(4)
        var status = RunStatus(rawValue: row.text(11)) ?? .failed
        if status == .running, let liveness, liveness.host == host, !(pid.map(liveness.isAlive) ?? false) { status = .died }
        return RunRow(id: row.int(0), command: row.text(1), commandLine: row.text(2), toolVersion: row.text(3), host: host,
                      user: row.text(5), inputFile: row.optionalText(6), inputSHA256: row.optionalText(7),
                      registry: row.optionalText(8), namespace: row.optionalText(9), options: row.optionalText(10),
                      status: status, startedAt: row.text(12), finishedAt: row.optionalText(13),
                      parentRunID: row.optionalInt(14), pid: pid)
    }

    static let jobColumns = """
        id, run_id, seq, kind, service, registry, repository, coalesce(target, registry || '/' || repository), items,
        status, attempts, error_class, error_message, digest, started_at, finished_at, duration_ms, source, source_digest
        """

    static func jobRow(_ row: Row) -> JobRow {
        JobRow(id: row.int(0), runID: row.int(1), seq: Int(row.int(2)), kind: JobKind(rawValue: row.text(3)),
               service: row.text(4), registry: row.text(5), repository: row.text(6), target: row.text(7),
               items: JSONList.decode(row.text(8)), status: JobStatus(rawValue: row.text(9)) ?? .failed,
               attempts: Int(row.int(10)), errorClass: row.optionalText(11), errorMessage: row.optionalText(12),
               digest: row.optionalText(13), startedAt: row.optionalText(14), finishedAt: row.optionalText(15),
               durationMs: row.optionalInt(16).map { Int($0) }, source: row.optionalText(17),
               sourceDigest: row.optionalText(18))
    }

    public func latestRunID() async throws(AuditStoreError) -> RunID? {
        try await read { connection throws(AuditStoreError) in
            try connection.query("SELECT max(id) FROM runs") { $0.optionalInt(0) }.first ?? nil
        }
    }

    public func latestRun(_ selector: RunSelector) async throws(AuditStoreError) -> RunRow? {
        let liveness = self.liveness
        let runs = try await read { connection throws(AuditStoreError) in
            try connection.query("SELECT \(Self.runColumns) FROM runs ORDER BY id DESC LIMIT 1000") { Self.runRow($0, liveness) }
        }
        return runs.first(where: selector.fits)
    }

    public func run(_ id: RunID) async throws(AuditStoreError) -> RunRow? {
        let liveness = self.liveness
        return try await read { connection throws(AuditStoreError) in try Self.run(id, connection, liveness) }
    }

    static func run(_ id: RunID, _ connection: Connection, _ liveness: Liveness?) throws(AuditStoreError) -> RunRow? {
        try connection.query("SELECT \(runColumns) FROM runs WHERE id = ?", [.int(id)]) { runRow($0, liveness) }.first
    }

    public func jobs(run: RunID) async throws(AuditStoreError) -> [JobRow] {
        try await read { connection throws(AuditStoreError) in
            try connection.query("SELECT \(Self.jobColumns) FROM jobs WHERE run_id = ? ORDER BY seq", [.int(run)], Self.jobRow)
        }
    }

    /// The attempts of one job, in order.
    public func attempts(job: JobID) async throws(AuditStoreError) -> [AttemptRecord] {
        try await read { connection throws(AuditStoreError) in
            try connection.query("""
                SELECT j.run_id, a.job_id, a.number, a.started_at, a.duration_ms, a.outcome, a.http_status, a.error_code,
                       a.error_class, a.message, a.requests, a.bytes_sent, a.wait_ms, a.wait_reason
                FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE a.job_id = ? ORDER BY a.number
                """, [.int(job)]) { row in
                AttemptRecord(runID: row.int(0), jobID: row.int(1), number: Int(row.int(2)),
                              startedAt: Timestamp.date(row.text(3)) ?? Date(timeIntervalSince1970: 0),
                              durationMs: Int(row.int(4)), outcome: AttemptOutcome(rawValue: row.text(5)) ?? .failed,
                              httpStatus: row.optionalInt(6).map { Int($0) }, errorCode: row.optionalText(7),
                              errorClass: row.optionalText(8), message: row.optionalText(9), requests: Int(row.int(10)),
                              bytesSent: Int(row.int(11)), waitMs: row.optionalInt(12).map { Int($0) },
                              waitReason: row.optionalText(13))
            }
        }
    }

    /// The item results of one job, in the order they were written.
    public func itemResults(job: JobID) async throws(AuditStoreError) -> [ItemResult] {
        try await read { connection throws(AuditStoreError) in
            try connection.query("""
                SELECT item, action, digest_before, digest_after, size, detail, recorded_at FROM item_results
                WHERE job_id = ? ORDER BY id
                """, [.int(job)]) { row in
                ItemResult(item: row.text(0), action: row.text(1), digestBefore: row.optionalText(2),
                           digestAfter: row.optionalText(3), size: row.optionalInt(4), detail: row.optionalText(5),
                           at: Timestamp.date(row.text(6)) ?? Date(timeIntervalSince1970: 0))
            }
        }
    }

    public func summary(run id: RunID, details: Bool) async throws(AuditStoreError) -> RunSummary? {
        let liveness = self.liveness
        return try await read { connection throws(AuditStoreError) -> RunSummary? in
            guard let run = try Self.run(id, connection, liveness) else { return nil }
            let jobs = try connection.query("""
                SELECT count(*), sum(status = 'succeeded'), sum(status = 'skipped'), sum(status = 'failed'),
                       sum(status = 'cancelled'), sum(status IN ('pending', 'running'))
                FROM jobs WHERE run_id = ?
                """, [.int(id)]) { row in (0..<6).map { Int(row.optionalInt(Int32($0)) ?? 0) } }.first ?? []
            let attempts = try connection.query("""
                SELECT count(*), sum(a.outcome = 'failed') FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = ?
                """, [.int(id)]) { row in [Int(row.int(0)), Int(row.optionalInt(1) ?? 0)] }.first ?? [0, 0]
            let items = try connection.query("""
                SELECT sum(t.action IN ('pushed', 'overwritten', 'moved', 'uploaded')), sum(t.action = 'skipped'), sum(t.action IN ('kept', 'conflict'))
                FROM item_results t JOIN jobs j ON j.id = t.job_id WHERE j.run_id = ?
                """, [.int(id)]) { row in (0..<3).map { Int(row.optionalInt(Int32($0)) ?? 0) } }.first ?? [0, 0, 0]
            var summary = RunSummary(runID: id, status: run.status, command: run.command, jobsTotal: jobs[0],
                                     jobsSucceeded: jobs[1], jobsSkipped: jobs[2], jobsFailed: jobs[3],
                                     jobsCancelled: jobs[4], jobsPending: jobs[5], attemptsTotal: attempts[0],
                                     attemptsFailed: attempts[1], tagsPushed: items[0], tagsSkipped: items[1],
                                     tagsKept: items[2], startedAt: run.startedAt, finishedAt: run.finishedAt,
                                     inputFile: run.inputFile, registry: run.registry, namespace: run.namespace)
            if details { try Self.addDetails(to: &summary, connection) }
            return summary
        }
    }

    public func knownHolder(registry: String, digest: String) async throws(AuditStoreError) -> String? {
        try await read { connection throws(AuditStoreError) in
            try connection.query("""
                SELECT j.repository FROM item_results t JOIN jobs j ON j.id = t.job_id
                WHERE t.digest_after = ? AND j.registry = ? AND t.action IN ('pushed', 'skipped', 'overwritten', 'verified')
                ORDER BY t.id DESC LIMIT 1
                """, [.text(digest), .text(registry)]) { $0.text(0) }.first
        }
    }

    public func blobHolder(registry: String, digest: String) async throws(AuditStoreError) -> String? {
        try await read { connection throws(AuditStoreError) in
            try connection.query("""
                SELECT j.repository FROM blob_actions b JOIN jobs j ON j.id = b.job_id
                WHERE b.digest = ? AND j.registry = ? ORDER BY b.id DESC LIMIT 1
                """, [.text(digest), .text(registry)]) { $0.text(0) }.first
        }
    }

    public func resumptions(run: RunID) async throws(AuditStoreError) -> Int {
        try await read { connection throws(AuditStoreError) in
            try connection.query("SELECT count(*) FROM run_resumptions WHERE run_id = ?", [.int(run)]) { Int($0.int(0)) }.first ?? 0
        }
    }

    public func limiterPauses(run: RunID) async throws(AuditStoreError) -> [PauseRow] {
        try await read { connection throws(AuditStoreError) in
            try connection.query("""
                SELECT registry, paused_at, duration_ms, rate_after, reason FROM limiter_pauses WHERE run_id = ? ORDER BY id
                """, [.int(run)]) { row in
                PauseRow(registry: row.text(0), pausedAt: row.text(1), durationMs: Int(row.int(2)), rateAfter: row.double(3),
                         reason: row.text(4))
            }
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
        let blobs = try connection.query("""
            SELECT coalesce(sum(CASE WHEN b.action = 'uploaded' THEN b.size END), 0),
                   coalesce(sum(CASE WHEN b.action <> 'uploaded' THEN b.size END), 0)
            FROM jobs j JOIN blob_actions b ON b.job_id = j.id WHERE j.run_id = ?
            """, [id]) { (Int64($0.int(0)), Int64($0.int(1))) }.first ?? (0, 0)
        summary.bytesUploaded = blobs.0
        summary.bytesMounted = blobs.1
        let pauses = try connection.query("SELECT count(*), coalesce(sum(duration_ms), 0) FROM limiter_pauses WHERE run_id = ?",
                                          [id]) { (Int($0.int(0)), Int($0.int(1))) }.first ?? (0, 0)
        summary.rateLimitPauses = pauses.0
        summary.rateLimitWaitMs = pauses.1
        summary.wallMs = Self.milliseconds(from: summary.startedAt, to: summary.finishedAt)
        let audit = try connection.query("SELECT audit_write_ms, audit_cpu_ms FROM runs WHERE id = ?", [id]) {
            ($0.optionalInt(0).map { Int($0) }, $0.optionalInt(1).map { Int($0) })
        }.first
        summary.auditWriteMs = audit?.0 ?? nil
        summary.auditCPUMs = audit?.1 ?? nil
        summary.ledgerRunHead = try connection.query(
            "SELECT run_hash FROM ledger WHERE run_id = ? ORDER BY id DESC LIMIT 1", [id]) { Hex.lowercase($0.blob(0)) }.first
    }
}
