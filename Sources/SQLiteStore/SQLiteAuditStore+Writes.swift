import AuditStore
import Foundation

/// What workflows write: runs, jobs, attempts, item results, pauses. Every row written or changed is chained in
/// the ledger in the same transaction.
extension SQLiteAuditStore {
    public func beginRun(_ run: NewRun) async throws(AuditStoreError) -> RunID {
        try await write { connection, ledger throws(AuditStoreError) in
            let rows = try ledger.write(.runs, """
                INSERT INTO runs (command, command_line, tool_version, host, user, input_file, input_sha256, registry,
                                  namespace, options, status, started_at, parent_run_id, pid)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?) \(ledger.returning(.runs))
                """, [.text(run.command), .text(run.commandLine), .text(run.toolVersion), .text(run.host), .text(run.user),
                      .text(run.inputFile), .text(run.inputSHA256), .text(run.registry), .text(run.namespace),
                      .text(run.options), .text(Timestamp.string(run.startedAt)), .int(run.parentRunID),
                      .int(run.pid.map(Int64.init))])
            return rows.first?.id ?? connection.lastInsertID
        }
    }

    public func finishRun(_ id: RunID, status: RunStatus, at: Date) async throws(AuditStoreError) {
        let thread = self.thread
        try await write { _, ledger throws(AuditStoreError) in
            // Read on the thread, inside the transaction: every write before this one is counted.
            let audit = thread.writeMillisecondsUnlocked
            try ledger.write(.runs, """
                UPDATE runs SET status = ?, finished_at = ?, audit_write_ms = coalesce(audit_write_ms, 0) + ?,
                    audit_cpu_ms = coalesce(audit_cpu_ms, 0) + ?
                WHERE id = ? \(ledger.returning(.runs))
                """, [.text(status.rawValue), .text(Timestamp.string(at)), .int(audit.wall), .int(audit.cpu), .int(id)])
        }
    }

    public func insertJobs(run: RunID, _ jobs: [NewJob]) async throws(AuditStoreError) -> [JobID] {
        try await write { _, ledger throws(AuditStoreError) -> [JobID] in
            var ids: [JobID] = []
            ids.reserveCapacity(jobs.count)
            let sql = """
                INSERT INTO jobs (run_id, seq, kind, service, registry, repository, target, items, source, source_digest,
                                  status)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending') \(ledger.returning(.jobs))
                """
            for job in jobs {
                let rows = try ledger.write(.jobs, runID: run, sql, [
                    .int(run), .int(job.seq), .text(job.kind.rawValue), .text(job.service), .text(job.registry),
                    .text(job.repository), .text(job.target), .text(JSONList.encode(job.items)), .text(job.source),
                    .text(job.sourceDigest)])
                ids.append(rows.first?.id ?? 0)
            }
            return ids
        }
    }

    public func recordAttempt(_ attempt: AttemptRecord) async throws(AuditStoreError) {
        try await write { _, ledger throws(AuditStoreError) in
            try Self.insertAttempt(attempt, ledger)
        }
    }

    /// The attempt row, and its job: at least this many attempts, running if it was pending, started when its
    /// first recorded attempt started.
    static func insertAttempt(_ attempt: AttemptRecord, _ ledger: LedgerWriter, updatingJob: Bool = true) throws(AuditStoreError) {
        let started = Timestamp.string(attempt.startedAt)
        let inserted = try ledger.write(.attempts, runID: attempt.runID, """
            INSERT INTO attempts (job_id, number, started_at, duration_ms, outcome, http_status, error_code,
                                  error_class, message, requests, bytes_sent, wait_ms, wait_reason)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \(ledger.returning(.attempts))
            """, [.int(attempt.jobID), .int(attempt.number), .text(started),
                  .int(attempt.durationMs), .text(attempt.outcome.rawValue), .int(attempt.httpStatus),
                  .text(attempt.errorCode), .text(attempt.errorClass), .text(attempt.message),
                  .int(attempt.requests), .int(attempt.bytesSent), .int(attempt.waitMs), .text(attempt.waitReason)])
        if let attemptID = inserted.first?.id, !attempt.blobs.isEmpty {
            let sql = """
                INSERT INTO blob_actions (attempt_id, job_id, digest, size, media_type, action, bytes_sent, duration_ms,
                                          recorded_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \(ledger.returning(.blobActions))
                """
            for blob in attempt.blobs {
                try ledger.write(.blobActions, runID: attempt.runID, sql, [
                    .int(attemptID), .int(attempt.jobID), .text(blob.digest), .int(blob.size), .text(blob.mediaType),
                    .text(blob.action), .int(blob.bytesSent), .int(blob.durationMs), .text(Timestamp.string(blob.at))])
            }
        }
        guard updatingJob else { return }
        try ledger.write(.jobs, """
            UPDATE jobs SET attempts = max(attempts, ?), started_at = coalesce(started_at, ?),
                status = CASE status WHEN 'pending' THEN 'running' ELSE status END
            WHERE id = ? \(ledger.returning(.jobs))
            """, [.int(attempt.number), .text(started), .int(attempt.jobID)])
    }

    public func finishJob(_ finish: JobFinish) async throws(AuditStoreError) {
        try await write { _, ledger throws(AuditStoreError) in
            try Self.finish(finish, ledger)
        }
    }

    public func finishJobDeferred(_ finish: JobFinish) {
        guard !readOnly else { return }
        thread.writeDeferred { _, ledger throws(AuditStoreError) in
            try Self.finish(finish, ledger)
        }
    }

    /// A job's last attempt (if not recorded yet), its item results and its end, in one transaction: a job that
    /// succeeds at its first attempt costs one write, and one update of its row (attempts and start included).
    static func finish(_ finish: JobFinish, _ ledger: LedgerWriter) throws(AuditStoreError) {
        if let lastAttempt = finish.lastAttempt { try insertAttempt(lastAttempt, ledger, updatingJob: false) }
        let sql = """
            INSERT INTO item_results (job_id, item, action, digest_before, digest_after, size, detail, recorded_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) \(ledger.returning(.itemResults))
            """
        for item in finish.items {
            try ledger.write(.itemResults, runID: finish.runID, sql, [
                .int(finish.jobID), .text(item.item), .text(item.action), .text(item.digestBefore), .text(item.digestAfter),
                .int(item.size), .text(item.detail), .text(Timestamp.string(item.at))])
        }
        let manifestSQL = """
            INSERT INTO job_manifests (job_id, digest, media_type, platform, tags, size, recorded_at)
            VALUES (?, ?, ?, ?, ?, ?, ?) \(ledger.returning(.jobManifests))
            """
        for manifest in finish.manifests {
            try ledger.write(.jobManifests, runID: finish.runID, manifestSQL, [
                .int(finish.jobID), .text(manifest.digest), .text(manifest.mediaType), .text(manifest.platform),
                .text(JSONList.encode(manifest.tags)), .int(manifest.size), .text(Timestamp.string(manifest.at))])
        }
        let completion = finish.completion
        let finished = Timestamp.string(completion.finishedAt)
        let attempts = finish.lastAttempt.map { Int64($0.number) } ?? 0
        let started = finish.lastAttempt.map { Timestamp.string($0.startedAt) }
        try ledger.write(.jobs, """
            UPDATE jobs SET status = ?, digest = ?, error_class = ?, error_message = ?, finished_at = ?,
                attempts = max(attempts, ?), started_at = coalesce(started_at, ?),
                duration_ms = CASE WHEN coalesce(started_at, ?) IS NULL THEN NULL
                    ELSE CAST(round((julianday(?) - julianday(coalesce(started_at, ?))) * 86400000) AS INTEGER) END
            WHERE id = ? \(ledger.returning(.jobs))
            """, [.text(completion.status.rawValue), .text(completion.digest), .text(completion.errorClass),
                  .text(completion.errorMessage), .text(finished), .int(attempts), .text(started), .text(started),
                  .text(finished), .text(started), .int(finish.jobID)])
    }

    public func cancelUnfinishedJobs(run: RunID, at: Date) async throws(AuditStoreError) -> Int {
        try await write { _, ledger throws(AuditStoreError) in
            try ledger.write(.jobs, runID: run, """
                UPDATE jobs SET status = 'cancelled', error_class = 'cancelled',
                    error_message = coalesce(error_message, 'not finished when the run stopped'), finished_at = ?
                WHERE run_id = ? AND status IN ('pending', 'running') \(ledger.returning(.jobs))
                """, [.text(Timestamp.string(at)), .int(run)]).count
        }
    }

    public func recordPause(_ pause: PauseRecord) async throws(AuditStoreError) {
        try await write { _, ledger throws(AuditStoreError) in
            try ledger.write(.limiterPauses, """
                INSERT INTO limiter_pauses (run_id, registry, paused_at, duration_ms, rate_after, reason)
                VALUES (?, ?, ?, ?, ?, ?) \(ledger.returning(.limiterPauses))
                """, [.int(pause.runID), .text(pause.registry), .text(Timestamp.string(pause.at)), .int(pause.durationMs),
                      .double(pause.rateAfter), .text(pause.reason)])
        }
    }

    public func reopenRun(_ id: RunID, commandLine: String, pid: Int32, at: Date) async throws(AuditStoreError) {
        try await write { _, ledger throws(AuditStoreError) in
            try ledger.write(.runResumptions, """
                INSERT INTO run_resumptions (run_id, resumed_at, command_line, pid, prior_status)
                SELECT id, ?, ?, ?, status FROM runs WHERE id = ? \(ledger.returning(.runResumptions))
                """, [.text(Timestamp.string(at)), .text(commandLine), .int(Int64(pid)), .int(id)])
            try ledger.write(.runs, "UPDATE runs SET status = 'running', finished_at = NULL, pid = ? WHERE id = ? "
                             + ledger.returning(.runs), [.int(Int64(pid)), .int(id)])
        }
    }

    public func markDiedRuns(host: String, isAlive: @escaping @Sendable (Int32) -> Bool) async throws(AuditStoreError) -> [RunID] {
        try await write { connection, ledger throws(AuditStoreError) -> [RunID] in
            let running = try connection.query("SELECT id, pid FROM runs WHERE status = 'running' AND host = ?",
                                               [.text(host)]) { ($0.int(0), $0.optionalInt(1)) }
            let dead = running.filter { _, pid in pid.map { !isAlive(Int32($0)) } ?? true }.map(\.0)
            var marked: [RunID] = []
            for id in dead {
                let rows = try ledger.write(.runs, "UPDATE runs SET status = 'died' WHERE id = ? AND status = 'running' "
                                            + ledger.returning(.runs), [.int(id)])
                if !rows.isEmpty { marked.append(id) }
            }
            return marked
        }
    }
}

/// Item lists are stored as a JSON array of strings.
enum JSONList {
    static func encode(_ values: [String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: values)) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String) -> [String] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String]) ?? []
    }
}
