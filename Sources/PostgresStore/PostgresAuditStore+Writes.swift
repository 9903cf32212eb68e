import AuditStore
import Foundation
import PostgresNIO

/// What workflows write: runs, jobs, attempts, item results, pauses; each call one transaction whose rows are
/// chained in the ledger before it commits.
extension PostgresAuditStore {
    public func beginRun(_ run: NewRun) async throws(AuditStoreError) -> RunID {
        try await write { _, ledger in
            var statement = SQLStatement()
            let values: [PGValue] = [.text(run.command), .text(run.commandLine), .text(run.toolVersion), .text(run.host),
                                     .text(run.user), .text(run.inputFile), .text(run.inputSHA256), .text(run.registry),
                                     .text(run.namespace), .text(run.options), .text(Timestamp.string(run.startedAt)),
                                     .int(run.parentRunID), .int(run.pid.map(Int64.init))]
            let placeholders = values.map { statement.bind($0) }
            statement.sql = """
                INSERT INTO runs (command, command_line, tool_version, host, "user", input_file, input_sha256, registry,
                                  namespace, options, started_at, parent_run_id, pid, status)
                VALUES (\(placeholders.joined(separator: ", ")), 'running') \(ledger.returning(.runs))
                """
            return try await ledger.write(.runs, statement).first?.id ?? 0
        }
    }

    public func finishRun(_ id: RunID, status: RunStatus, at: Date) async throws(AuditStoreError) {
        let audit = Int64(writeMilliseconds)
        try await write { _, ledger in
            // The CPU time of audit writes is the server's here: audit_cpu_ms stays as it is (NULL).
            try await ledger.write(.runs, SQLStatement("""
                UPDATE runs SET status = $1, finished_at = $2, audit_write_ms = coalesce(audit_write_ms, 0) + $3
                WHERE id = $4 \(ledger.returning(.runs))
                """, [.text(status.rawValue), .text(Timestamp.string(at)), .int(audit), .int(id)]))
        }
    }

    public func insertJobs(run: RunID, _ jobs: [NewJob]) async throws(AuditStoreError) -> [JobID] {
        guard !jobs.isEmpty else { return [] }
        return try await write { _, ledger in
            // One statement for every job: arrays in (chr(1) stands for NULL), ids matched back by seq.
            let rows = try await ledger.write(.jobs, runID: run, SQLStatement("""
                INSERT INTO jobs (run_id, seq, kind, service, registry, repository, target, items, source, source_digest,
                                  status)
                SELECT $1, u.seq, u.kind, u.service, u.registry, u.repository, u.target, u.items, nullif(u.source, chr(1)),
                       nullif(u.source_digest, chr(1)),
                       'pending'
                FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                            $9::text[], $10::text[], $11::bigint[])
                     AS u(seq, kind, service, registry, repository, target, items, source, source_digest, ord)
                ORDER BY u.ord \(ledger.returning(.jobs))
                """, [.int(run), .ints(jobs.map { Int64($0.seq) }), .texts(jobs.map(\.kind.rawValue)),
                      .texts(jobs.map(\.service)), .texts(jobs.map(\.registry)), .texts(jobs.map(\.repository)),
                      .texts(jobs.map(\.target)), .texts(jobs.map { JSONList.encode($0.items) }),
                      .texts(jobs.map { $0.source ?? "\u{1}" }), .texts(jobs.map { $0.sourceDigest ?? "\u{1}" }),
                      .ints(jobs.indices.map(Int64.init))]))
            let bySeq = Dictionary(rows.map { row -> (Int64, Int64) in
                if case .integer(let seq) = row["seq"] { return (seq, row.id) }
                return (-1, row.id)
            }, uniquingKeysWith: { first, _ in first })
            return jobs.map { bySeq[Int64($0.seq)] ?? 0 }
        }
    }

    /// An attempt of a claimed job (``AttemptRecord/fence``) is recorded only while its runner holds the lease, and a
    /// rescheduled one puts the job back in the queue in the same transaction.
    public func recordAttempt(_ attempt: AttemptRecord) async throws(AuditStoreError) {
        try await write { connection, ledger in
            if let fence = attempt.fence {
                guard try await self.holds(fence, requeue: attempt.reschedule, connection) else { return }
            }
            try await Self.insertAttempt(attempt, ledger)
        }
    }

    /// The attempt row and its blob actions, and its job: at least this many attempts, running if it was pending,
    /// started when its first recorded attempt started.
    static func insertAttempt(_ attempt: AttemptRecord, _ ledger: PostgresLedger) async throws {
        let started = Timestamp.string(attempt.startedAt)
        let inserted = try await ledger.write(.attempts, runID: attempt.runID, SQLStatement("""
            INSERT INTO attempts (job_id, number, started_at, duration_ms, outcome, http_status, error_code,
                                  error_class, message, requests, bytes_sent, wait_ms, wait_reason)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \(ledger.returning(.attempts))
            """, [.int(attempt.jobID), .int(attempt.number), .text(started), .int(attempt.durationMs),
                  .text(attempt.outcome.rawValue), .int(attempt.httpStatus), .text(attempt.errorCode),
                  .text(attempt.errorClass), .text(attempt.message), .int(attempt.requests), .int(attempt.bytesSent),
                  .int(attempt.waitMs), .text(attempt.waitReason)]))
        if let attemptID = inserted.first?.id {
            for blob in attempt.blobs {
                try await ledger.write(.blobActions, runID: attempt.runID, SQLStatement("""
                    INSERT INTO blob_actions (attempt_id, job_id, digest, size, media_type, action, bytes_sent, duration_ms,
                                              recorded_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \(ledger.returning(.blobActions))
                    """, [.int(attemptID), .int(attempt.jobID), .text(blob.digest), .int(blob.size), .text(blob.mediaType),
                          .text(blob.action), .int(blob.bytesSent), .int(blob.durationMs), .text(Timestamp.string(blob.at))]))
            }
        }
        try await ledger.write(.jobs, SQLStatement("""
            UPDATE jobs SET attempts = greatest(attempts, $1), started_at = coalesce(started_at, $2),
                status = CASE status WHEN 'pending' THEN 'running' ELSE status END
            WHERE id = $3 \(ledger.returning(.jobs))
            """, [.int(attempt.number), .text(started), .int(attempt.jobID)]))
    }

    public func finishJob(_ finish: JobFinish) async throws(AuditStoreError) {
        try await write { connection, ledger in try await self.fencedFinishes([finish], connection, ledger) }
    }

    public func finishJobDeferred(_ finish: JobFinish) {
        guard !readOnly else { return }
        deferred.add(finish) { [self] batch in
            do throws(AuditStoreError) {
                try await write(afterDeferred: false) { connection, ledger in
                    try await self.fencedFinishes(batch, connection, ledger)
                }
                return nil
            } catch {
                return error
            }
        }
    }

    public func flush() async -> AuditStoreError? {
        await deferred.wait()
    }

    /// The finishes of jobs in one statement (``FinishBatch``): nothing is written of a job whose lease this runner no
    /// longer holds (another runner was given the job); such fences are remembered.
    func fencedFinishes(_ finishes: [JobFinish], _ connection: PostgresConnection, _ ledger: PostgresLedger) async throws {
        let written = try await FinishBatch.write(finishes, connection, ledger)
        let lost = finishes.compactMap(\.fence).filter { !written.contains($0.jobID) }
        if !lost.isEmpty { refused.withLock { $0 += lost } }
    }

    /// Adds `milliseconds` of a runner's audit writes to the run's record.
    func creditAuditTime(run: RunID, milliseconds: Int) async throws(AuditStoreError) {
        try await write { _, ledger in
            try await ledger.write(.runs, SQLStatement("""
                UPDATE runs SET audit_write_ms = coalesce(audit_write_ms, 0) + $1 WHERE id = $2 \(ledger.returning(.runs))
                """, [.int(Int64(milliseconds)), .int(run)]))
        }
    }

    public func cancelUnfinishedJobs(run: RunID, at: Date) async throws(AuditStoreError) -> Int {
        try await write { _, ledger in
            try await ledger.write(.jobs, runID: run, SQLStatement("""
                UPDATE jobs SET status = 'cancelled', error_class = 'cancelled',
                    error_message = coalesce(error_message, 'not finished when the run stopped'), finished_at = $1
                WHERE run_id = $2 AND status IN ('pending', 'running') \(ledger.returning(.jobs))
                """, [.text(Timestamp.string(at)), .int(run)])).count
        }
    }

    public func recordPause(_ pause: PauseRecord) async throws(AuditStoreError) {
        try await write { _, ledger in
            try await ledger.write(.limiterPauses, SQLStatement("""
                INSERT INTO limiter_pauses (run_id, registry, paused_at, duration_ms, rate_after, reason)
                VALUES ($1, $2, $3, $4, $5, $6) \(ledger.returning(.limiterPauses))
                """, [.int(pause.runID), .text(pause.registry), .text(Timestamp.string(pause.at)), .int(pause.durationMs),
                      .double(pause.rateAfter), .text(pause.reason)]))
        }
    }

    public func reopenRun(_ id: RunID, commandLine: String, pid: Int32, at: Date) async throws(AuditStoreError) {
        try await write { _, ledger in
            try await ledger.write(.runResumptions, SQLStatement("""
                INSERT INTO run_resumptions (run_id, resumed_at, command_line, pid, prior_status)
                SELECT id, $1, $2, $3, status FROM runs WHERE id = $4 \(ledger.returning(.runResumptions))
                """, [.text(Timestamp.string(at)), .text(commandLine), .int(Int64(pid)), .int(id)]))
            try await ledger.write(.runs, SQLStatement("UPDATE runs SET status = 'running', finished_at = NULL, pid = $1 "
                                   + "WHERE id = $2 " + ledger.returning(.runs), [.int(Int64(pid)), .int(id)]))
        }
    }

    /// Also marks, on any host, the runs whose starting runner stopped its heartbeats for three leases (a machine
    /// that died with its run; `resume` then continues it from anywhere).
    public func markDiedRuns(host: String, isAlive: @escaping @Sendable (Int32) -> Bool) async throws(AuditStoreError) -> [RunID] {
        try await write { connection, ledger in
            // A run another machine resumed keeps its first host but beats as a live starter: not this host's to judge.
            let running = try await connection.rows("""
                SELECT id, pid FROM runs WHERE status = 'running' AND host = $1 AND NOT EXISTS (
                    SELECT 1 FROM runners r WHERE r.run_id = runs.id AND r.role = 'starter' AND r.left_at IS NULL
                      AND r.seen_at + make_interval(secs => 3 * r.lease_ms / 1000.0) >= now())
                """, [.text(host)], logger: ledger.logger).map { ($0.int(0), $0.optionalInt(1)) }
            let silent = try await self.runsWithSilentStarters(connection)
            var dead = running.filter { !($0.1.map { isAlive(Int32($0)) } ?? false) }.map(\.0)
            dead += silent.subtracting(dead).sorted()
            var marked: [RunID] = []
            for id in dead {
                let rows = try await ledger.write(.runs, SQLStatement(
                    "UPDATE runs SET status = 'died' WHERE id = $1 AND status = 'running' " + ledger.returning(.runs), [.int(id)]))
                if !rows.isEmpty { marked.append(id) }
            }
            return marked
        }
    }
}

/// Item lists are stored as a JSON array of strings, as in the SQLite store.
enum JSONList {
    static func encode(_ values: [String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: values)) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String) -> [String] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String]) ?? []
    }
}
