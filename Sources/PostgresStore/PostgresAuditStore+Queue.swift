import AuditStore
import Foundation
import PostgresNIO
import Synchronization

/// The store's side of the shared queue: the fence every write about a claimed job passes, the rescue of expired
/// leases (an audited write: the lost attempt is recorded), and LISTEN for new work.
extension PostgresAuditStore {
    public func jobQueue(lease: Duration) -> (any JobQueue)? {
        readOnly ? nil : PostgresJobQueue(store: self, runner: runnerName, lease: lease)
    }

    /// Fences this store's writes were refused on (the lease had been taken over), since it was opened.
    public var refusedFences: [ClaimFence] { refused.withLock { $0 } }

    /// Whether this transaction's runner still holds `fence` (for an attempt's record; a finish is fenced in its
    /// batch statement); the claim row stays locked until the commit. With `reschedule`, the job goes back to the queue
    /// in the same statement. A refused fence is remembered.
    func holds(_ fence: ClaimFence, requeue reschedule: Reschedule?, _ connection: PostgresConnection) async throws -> Bool {
        let where_ = "job_id = $1 AND attempt = $2 AND claimed_by = $3 AND status = 'running'"
        var values: [PGValue] = [.int(fence.jobID), .int(Int64(fence.claim)), .text(fence.runner)]
        let sql: String
        if let reschedule {
            values += [.int(Int64(reschedule.afterMs)), .int(Int64(reschedule.counters.counted)),
                       .int(Int64(reschedule.counters.consecutive))]
            sql = """
                UPDATE job_claims SET status = 'pending', claimed_by = NULL, claimed_until = NULL,
                    run_at = now() + make_interval(secs => $4::bigint / 1000.0), retries_counted = $5,
                    retries_consecutive = $6
                WHERE \(where_) RETURNING job_id
                """
        } else {
            sql = "SELECT job_id FROM job_claims WHERE \(where_) FOR UPDATE"
        }
        queueTime.begin()
        defer { queueTime.end() }
        let held = try await !connection.rows(sql, values, logger: logger).isEmpty
        if !held { refused.withLock { $0.append(fence) } }
        return held
    }

    /// Jobs this process claimed since the store was opened.
    var claimsTaken: Int { claims.withLock { $0 } }

    func noteClaims(_ count: Int) { claims.withLock { $0 += count } }

    /// Returns every expired lease to the queue (or gives its job up after `maxLeasesLost` losses) and records the
    /// attempt each lost, in one audited transaction. Rows another transaction is writing are skipped, not waited for.
    func rescueExpired(maxLeasesLost: Int, at: Date) async throws(AuditStoreError) -> RescueResult {
        try await write { connection, ledger in
            let rescued = try await connection.rows("""
                WITH expired AS MATERIALIZED (
                    SELECT job_id, claimed_by, claimed_at, claimed_until FROM job_claims
                    WHERE status = 'running' AND claimed_until < now() ORDER BY job_id FOR UPDATE SKIP LOCKED
                )
                UPDATE job_claims c SET status = CASE WHEN c.leases_lost + 1 >= $1 THEN 'abandoned' ELSE 'pending' END,
                    leases_lost = c.leases_lost + 1, claimed_by = NULL, claimed_until = NULL, run_at = now()
                FROM expired, jobs j
                WHERE c.job_id = expired.job_id AND j.id = c.job_id
                RETURNING c.job_id, c.run_id, c.status, expired.claimed_by, j.attempts,
                    extract(epoch FROM coalesce(expired.claimed_at, expired.claimed_until))::float8,
                    extract(epoch FROM expired.claimed_until)::float8, c.leases_lost
                """, [.int(Int64(maxLeasesLost))], logger: ledger.logger)
            var result = RescueResult()
            for row in rescued.sorted(by: { $0.int(0) < $1.int(0) }) {
                let (jobID, runID, holder, lost) = (row.int(0), row.int(1), row.text(3), row.int(7))
                let claimed = Date(timeIntervalSince1970: row.double(5) ?? at.timeIntervalSince1970)
                let expired = Date(timeIntervalSince1970: row.double(6) ?? at.timeIntervalSince1970)
                let abandoned = row.text(2) == "abandoned"
                let message = "runner \(holder) stopped renewing its lease (it expired at \(Timestamp.string(expired)))"
                    + (abandoned ? "; the job lost its lease \(lost) times and is given up" : "; the job goes back to the queue")
                var attempt = AttemptRecord(runID: runID, jobID: jobID, number: Int(row.int(4)) + 1, startedAt: claimed,
                                            durationMs: max(0, Int(expired.timeIntervalSince(claimed) * 1000)),
                                            outcome: .failed, errorClass: Self.leaseLost, message: message)
                attempt.waitMs = abandoned ? nil : 0
                try await Self.insertAttempt(attempt, ledger)
                if abandoned {
                    let completion = JobCompletion(status: .failed, digest: nil, errorClass: Self.leaseLost,
                                                   errorMessage: "lost its lease \(lost) times (the runners holding it "
                                                       + "stopped answering); stevedore retry \(runID) runs it again",
                                                   finishedAt: at)
                    _ = try await FinishBatch.write([JobFinish(runID: runID, jobID: jobID, completion: completion)], connection, ledger)
                    result.abandoned.append(jobID)
                } else {
                    result.requeued.append(jobID)
                }
            }
            return result
        }
    }

    /// The error class of an attempt whose runner lost the job's lease.
    static let leaseLost = "lease_lost"

    /// Starts LISTENing on `channel` on a pooled connection of its own, for as long as the store is open; from then
    /// on no notification is missed between two ``waitForNotification(timeout:)`` calls.
    func listen(channel: String) {
        notifications.start { [self] in
            _ = try? await read { connection in
                try await connection.listen(on: channel) { sequence in
                    for try await _ in sequence { self.notifications.bump() }
                }
            }
        }
    }

    /// Returns once a notification came since the previous call returned (at once if one did), or after `timeout`.
    func waitForNotification(timeout: Duration) async {
        await notifications.wait(timeout: timeout)
    }

    /// Runs recorded as running whose starting runner stopped beating for three of its leases (any host).
    func runsWithSilentStarters(_ connection: PostgresConnection) async throws -> Set<RunID> {
        Set(try await connection.rows("""
            SELECT DISTINCT r.run_id FROM runners r JOIN runs ON runs.id = r.run_id
            WHERE runs.status = 'running' AND r.role = 'starter' AND r.left_at IS NULL
              AND r.seen_at + make_interval(secs => 3 * r.lease_ms / 1000.0) < now()
              AND NOT EXISTS (SELECT 1 FROM runners live WHERE live.run_id = r.run_id AND live.role = 'starter'
                              AND live.left_at IS NULL AND live.seen_at + make_interval(secs => 3 * live.lease_ms / 1000.0) >= now())
            """, logger: logger).map { $0.int(0) })
    }
}

/// Notifications counted by a listener task, and waits for the next one.
final class NotificationCounter: Sendable {
    private let state = Mutex<(count: Int, seen: Int, listener: Task<Void, Never>?)>((0, 0, nil))

    /// Starts `listen` once (later calls do nothing).
    func start(_ listen: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            guard state.listener == nil else { return }
            state.listener = Task { await listen() }
        }
    }

    func bump() { state.withLock { $0.count += 1 } }

    func wait(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let fresh = state.withLock { state -> Bool in
                guard state.count != state.seen else { return false }
                state.seen = state.count
                return true
            }
            if fresh { return }
            guard (try? await Task.sleep(for: .milliseconds(25))) != nil else { return }
        }
    }

    func stop() { state.withLock { $0.listener?.cancel() } }
}
