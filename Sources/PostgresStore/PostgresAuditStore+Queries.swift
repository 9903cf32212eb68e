import AuditStore
import Checksums
import Foundation
import PostgresNIO

/// Reads a run needs while it goes on, and the summary of a run (the SQLite store's queries, in PostgreSQL's dialect).
extension PostgresAuditStore {
    static let runColumns = """
        id, command, command_line, tool_version, host, "user", input_file, input_sha256, registry, namespace, options,
        status, started_at, finished_at, parent_run_id, pid
        """

    /// A run row, with `running` shown as `died` when ``Liveness`` says its process on this host is gone.
    static func runRow(_ row: PGRow, _ liveness: Liveness?) -> RunRow {
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

    static func jobRow(_ row: PGRow) -> JobRow {
        JobRow(id: row.int(0), runID: row.int(1), seq: Int(row.int(2)), kind: JobKind(rawValue: row.text(3)),
               service: row.text(4), registry: row.text(5), repository: row.text(6), target: row.text(7),
               items: JSONList.decode(row.text(8)), status: JobStatus(rawValue: row.text(9)) ?? .failed,
               attempts: Int(row.int(10)), errorClass: row.optionalText(11), errorMessage: row.optionalText(12),
               digest: row.optionalText(13), startedAt: row.optionalText(14), finishedAt: row.optionalText(15),
               durationMs: row.optionalInt(16).map { Int($0) }, source: row.optionalText(17),
               sourceDigest: row.optionalText(18))
    }

    /// Rows of one statement on a pooled connection.
    func rows(_ sql: String, _ values: [PGValue] = []) async throws(AuditStoreError) -> [PGRow] {
        let logger = self.logger
        return try await read { connection in try await connection.rows(sql, values, logger: logger) }
    }

    public func latestRunID() async throws(AuditStoreError) -> RunID? {
        try await rows("SELECT max(id) FROM runs").first?.optionalInt(0)
    }

    public func latestRun(_ selector: RunSelector) async throws(AuditStoreError) -> RunRow? {
        let liveness = self.liveness
        return try await rows("SELECT \(Self.runColumns) FROM runs ORDER BY id DESC LIMIT 1000")
            .map { Self.runRow($0, liveness) }.first(where: selector.fits)
    }

    public func run(_ id: RunID) async throws(AuditStoreError) -> RunRow? {
        let liveness = self.liveness
        return try await rows("SELECT \(Self.runColumns) FROM runs WHERE id = $1", [.int(id)]).first.map { Self.runRow($0, liveness) }
    }

    public func jobs(run: RunID) async throws(AuditStoreError) -> [JobRow] {
        try await rows("SELECT \(Self.jobColumns) FROM jobs WHERE run_id = $1 ORDER BY seq", [.int(run)]).map(Self.jobRow)
    }

    public func summary(run id: RunID, details: Bool) async throws(AuditStoreError) -> RunSummary? {
        guard let run = try await run(id) else { return nil }
        let jobs = try await rows("""
            SELECT count(*), count(*) FILTER (WHERE status = 'succeeded'), count(*) FILTER (WHERE status = 'skipped'),
                   count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status = 'cancelled'),
                   count(*) FILTER (WHERE status IN ('pending', 'running'))
            FROM jobs WHERE run_id = $1
            """, [.int(id)]).first.map { row in (0..<6).map { Int(row.int($0)) } } ?? Array(repeating: 0, count: 6)
        let attempts = try await rows("""
            SELECT count(*), count(*) FILTER (WHERE a.outcome = 'failed')
            FROM attempts a JOIN jobs j ON j.id = a.job_id WHERE j.run_id = $1
            """, [.int(id)]).first.map { [Int($0.int(0)), Int($0.int(1))] } ?? [0, 0]
        let items = try await rows("""
            SELECT count(*) FILTER (WHERE t.action IN ('pushed', 'overwritten', 'moved', 'uploaded')),
                   count(*) FILTER (WHERE t.action = 'skipped'), count(*) FILTER (WHERE t.action IN ('kept', 'conflict'))
            FROM item_results t JOIN jobs j ON j.id = t.job_id WHERE j.run_id = $1
            """, [.int(id)]).first.map { row in (0..<3).map { Int(row.int($0)) } } ?? [0, 0, 0]
        var summary = RunSummary(runID: id, status: run.status, command: run.command, jobsTotal: jobs[0],
                                 jobsSucceeded: jobs[1], jobsSkipped: jobs[2], jobsFailed: jobs[3],
                                 jobsCancelled: jobs[4], jobsPending: jobs[5], attemptsTotal: attempts[0],
                                 attemptsFailed: attempts[1], tagsPushed: items[0], tagsSkipped: items[1],
                                 tagsKept: items[2], startedAt: run.startedAt, finishedAt: run.finishedAt,
                                 inputFile: run.inputFile, registry: run.registry, namespace: run.namespace)
        if details { try await addDetails(to: &summary) }
        return summary
    }

    public func knownHolder(registry: String, digest: String) async throws(AuditStoreError) -> String? {
        try await rows("""
            SELECT j.repository FROM item_results t JOIN jobs j ON j.id = t.job_id
            WHERE t.digest_after = $1 AND j.registry = $2 AND t.action IN ('pushed', 'skipped', 'overwritten', 'verified')
            ORDER BY t.id DESC LIMIT 1
            """, [.text(digest), .text(registry)]).first?.optionalText(0)
    }

    public func blobHolder(registry: String, digest: String) async throws(AuditStoreError) -> String? {
        try await rows("""
            SELECT j.repository FROM blob_actions b JOIN jobs j ON j.id = b.job_id
            WHERE b.digest = $1 AND j.registry = $2 ORDER BY b.id DESC LIMIT 1
            """, [.text(digest), .text(registry)]).first?.optionalText(0)
    }

    public func resumptions(run: RunID) async throws(AuditStoreError) -> Int {
        Int(try await rows("SELECT count(*) FROM run_resumptions WHERE run_id = $1", [.int(run)]).first?.int(0) ?? 0)
    }

    public func limiterPauses(run: RunID) async throws(AuditStoreError) -> [PauseRow] {
        try await rows("""
            SELECT registry, paused_at, duration_ms, rate_after, reason FROM limiter_pauses WHERE run_id = $1 ORDER BY id
            """, [.int(run)]).map { row in
            PauseRow(registry: row.text(0), pausedAt: row.text(1), durationMs: Int(row.int(2)), rateAfter: row.double(3),
                     reason: row.text(4))
        }
    }

    /// Retries, waits, requests, bytes, latency percentiles, wall and audit time, the ledger head.
    func addDetails(to summary: inout RunSummary) async throws(AuditStoreError) {
        let id = PGValue.int(summary.runID)
        summary.retries = Int(try await rows("""
            SELECT coalesce(sum(greatest(attempts - 1, 0)), 0)::bigint FROM jobs WHERE run_id = $1
            """, [id]).first?.int(0) ?? 0)
        for row in try await rows("""
            SELECT error_class, count(*) FROM jobs WHERE run_id = $1 AND status IN ('failed', 'cancelled')
            AND error_class IS NOT NULL GROUP BY error_class
            """, [id]) { summary.jobsByErrorClass[row.text(0)] = Int(row.int(1)) }
        var durations: [Int] = []
        for row in try await rows("""
            SELECT a.duration_ms, a.outcome, a.error_class, a.wait_ms, a.requests, a.bytes_sent
            FROM jobs j JOIN attempts a ON a.job_id = j.id WHERE j.run_id = $1
            """, [id]) {
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
        if let blobs = try await rows("""
            SELECT coalesce(sum(b.size) FILTER (WHERE b.action = 'uploaded'), 0)::bigint,
                   coalesce(sum(b.size) FILTER (WHERE b.action <> 'uploaded'), 0)::bigint
            FROM jobs j JOIN blob_actions b ON b.job_id = j.id WHERE j.run_id = $1
            """, [id]).first {
            summary.bytesUploaded = blobs.int(0)
            summary.bytesMounted = blobs.int(1)
        }
        if let pauses = try await rows(
            "SELECT count(*), coalesce(sum(duration_ms), 0)::bigint FROM limiter_pauses WHERE run_id = $1", [id]).first {
            summary.rateLimitPauses = Int(pauses.int(0))
            summary.rateLimitWaitMs = Int(pauses.int(1))
        }
        summary.wallMs = Self.milliseconds(from: summary.startedAt, to: summary.finishedAt)
        if let audit = try await rows("SELECT audit_write_ms, audit_cpu_ms FROM runs WHERE id = $1", [id]).first {
            summary.auditWriteMs = audit.optionalInt(0).map { Int($0) }
            summary.auditCPUMs = audit.optionalInt(1).map { Int($0) }
        }
        summary.ledgerRunHead = try await rows("SELECT run_hash FROM ledger WHERE run_id = $1 ORDER BY id DESC LIMIT 1",
                                               [id]).first.map { Hex.lowercase($0.bytes(0)) }
    }

    static func milliseconds(from start: String, to end: String?) -> Int? {
        guard let end, let from = Timestamp.date(start), let to = Timestamp.date(end) else { return nil }
        return Int((to.timeIntervalSince(from) * 1000).rounded())
    }
}
