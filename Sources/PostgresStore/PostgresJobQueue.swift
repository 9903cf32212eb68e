import AuditStore
import Foundation
import PostgresNIO
import Timekeeping

/// The work queue on PostgreSQL (`job_claims`, migrations 0006 and 0007): runners on any machine claim due jobs with
/// `FOR UPDATE SKIP LOCKED` inside a MATERIALIZED CTE (the LIMIT is applied once, no job goes to two runners), each
/// claim a lease (`claimed_by`, `claimed_until`, `attempt + 1`) kept alive by heartbeats. Expired leases go back to
/// the queue with their lost attempt recorded (``PostgresAuditStore/rescueExpired(maxLeasesLost:at:)``), and every
/// write about a claimed job is fenced on (job, claim, runner) in the transaction that records it.
public struct PostgresJobQueue: JobQueue {
    public let store: PostgresAuditStore
    public let runner: String
    public let lease: Duration
    /// The channel `enqueue` notifies and ``waitForWork(timeout:)`` listens on.
    static let channel = "stevedore_jobs"

    public init(store: PostgresAuditStore, runner: String, lease: Duration = .seconds(30)) {
        self.store = store
        self.runner = runner
        self.lease = lease
    }

    /// A runner name for this process: `host:pid:nonce` (one per opened store).
    static func runnerName() -> String {
        let info = ProcessInfo.processInfo
        return "\(info.hostName):\(info.processIdentifier):\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    }

    public func register(role: RunnerRole, run: RunID?) async throws(AuditStoreError) {
        if role == .worker { store.listen(channel: Self.channel) }
        let info = ProcessInfo.processInfo
        _ = try await store.rows("""
            INSERT INTO runners (id, host, pid, role, run_id, lease_ms) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (id) DO UPDATE SET role = excluded.role, run_id = excluded.run_id, seen_at = now()
            """, [.text(runner), .text(info.hostName), .int(Int64(info.processIdentifier)), .text(role.rawValue),
                  .int(run), .int(Int64(lease.milliseconds))])
    }

    public func unregister() async {
        _ = try? await store.rows("""
            UPDATE job_claims SET status = 'pending', claimed_by = NULL, claimed_until = NULL
            WHERE claimed_by = $1 AND status = 'running'
            """, [.text(runner)])
        _ = try? await store.rows("UPDATE runners SET seen_at = now(), left_at = now(), claims = $2, queue_ms = $3 WHERE id = $1",
                                  [.text(runner), .int(Int64(store.claimsTaken)), .int(Int64(store.queueTime.milliseconds))])
    }

    public func enqueue(run: RunID, jobs: [JobID]) async throws(AuditStoreError) {
        guard !jobs.isEmpty else { return }
        // A job queued before (a resumed run) is queued again unless a live lease holds it or it is done.
        _ = try await store.rows("""
            WITH queued AS (
                INSERT INTO job_claims (job_id, run_id) SELECT unnest($1::bigint[]), $2
                ON CONFLICT (job_id) DO UPDATE SET status = 'pending', claimed_by = NULL, claimed_until = NULL,
                    run_at = now(), leases_lost = 0
                WHERE job_claims.status IN ('cancelled', 'abandoned')
                   OR (job_claims.status = 'running' AND job_claims.claimed_until < now())
                RETURNING job_id
            )
            SELECT pg_notify($3, $2::text) FROM (SELECT count(*) FROM queued) AS n
            """, [.ints(jobs), .int(run), .text(Self.channel)])
    }

    public func claim(run: RunID?, among: [JobID]? = nil, limit: Int) async throws(AuditStoreError) -> [JobClaim] {
        store.queueTime.begin()
        defer { store.queueTime.end() }
        // The run filter and the running-run check read the same partial index (run_id, job_id) of pending claims.
        let rows = try await store.rows("""
            WITH picked AS MATERIALIZED (
                SELECT c.job_id FROM job_claims c
                WHERE c.status = 'pending' AND c.run_at <= now() AND ($1::bigint IS NULL OR c.run_id = $1)
                  AND ($1::bigint IS NOT NULL OR c.run_id IN (SELECT id FROM runs WHERE status = 'running'))
                  AND ($5::bigint[] IS NULL OR c.job_id = ANY($5))
                ORDER BY c.run_id, c.job_id LIMIT $2 FOR UPDATE OF c SKIP LOCKED
            )
            UPDATE job_claims c SET status = 'running', claimed_by = $3, claimed_at = now(),
                claimed_until = now() + make_interval(secs => $4), attempt = c.attempt + 1
            FROM picked JOIN jobs j ON j.id = picked.job_id
            WHERE c.job_id = picked.job_id
            RETURNING c.job_id, c.run_id, c.attempt, j.attempts, c.retries_counted, c.retries_consecutive
            """, [.int(run), .int(limit), .text(runner), .double(lease.seconds), among.map { .ints($0) } ?? .null])
        store.noteClaims(rows.count)
        return rows.map { row in
            JobClaim(runID: row.int(1), fence: ClaimFence(jobID: row.int(0), claim: Int(row.int(2)), runner: runner),
                     priorAttempts: Int(row.int(3)),
                     counters: RetryCounters(counted: Int(row.int(4)), consecutive: Int(row.int(5))))
        }.sorted { ($0.runID, $0.jobID) < ($1.runID, $1.jobID) }
    }

    public func heartbeat(_ held: [ClaimFence]) async throws(AuditStoreError) -> Heartbeat {
        _ = try await store.rows("UPDATE runners SET seen_at = now(), claims = $2, queue_ms = $3 WHERE id = $1",
                                 [.text(runner), .int(Int64(store.claimsTaken)), .int(Int64(store.queueTime.milliseconds))])
        guard !held.isEmpty else { return Heartbeat() }
        // Rows another transaction is finishing are skipped, not waited for: their lease is not lost.
        let jobs = PGValue.ints(held.map(\.jobID)), claims = PGValue.ints(held.map { Int64($0.claim) })
        let states = try await store.rows("""
            WITH mine AS MATERIALIZED (
                SELECT c.job_id FROM job_claims c JOIN unnest($2::bigint[], $3::bigint[]) AS h(job_id, attempt)
                    ON c.job_id = h.job_id AND c.attempt = h.attempt
                WHERE c.claimed_by = $4 AND c.status = 'running' ORDER BY c.job_id FOR UPDATE OF c SKIP LOCKED
            ),
            renewed AS (
                UPDATE job_claims c SET claimed_until = now() + make_interval(secs => $1) FROM mine
                WHERE c.job_id = mine.job_id RETURNING c.job_id
            )
            SELECT c.job_id, c.status FROM job_claims c JOIN unnest($2::bigint[], $3::bigint[]) AS h(job_id, attempt)
                ON c.job_id = h.job_id AND c.attempt = h.attempt
            WHERE c.claimed_by = $4 AND c.status IN ('running', 'done')
            """, [.double(lease.seconds), jobs, claims, .text(runner)])
        let mine = Dictionary(states.map { ($0.int(0), $0.text(1)) }, uniquingKeysWith: { first, _ in first })
        return Heartbeat(lost: held.filter { mine[$0.jobID] == nil }, finished: held.filter { mine[$0.jobID] == "done" })
    }

    public func release(_ claims: [ClaimFence]) async throws(AuditStoreError) {
        guard !claims.isEmpty else { return }
        _ = try await store.rows("""
            WITH mine AS MATERIALIZED (
                SELECT c.job_id FROM job_claims c JOIN unnest($1::bigint[], $2::bigint[]) AS h(job_id, attempt)
                    ON c.job_id = h.job_id AND c.attempt = h.attempt
                WHERE c.claimed_by = $3 AND c.status = 'running' ORDER BY c.job_id FOR UPDATE OF c
            )
            UPDATE job_claims c SET status = 'pending', claimed_by = NULL, claimed_until = NULL
            FROM mine WHERE c.job_id = mine.job_id
            """, [.ints(claims.map(\.jobID)), .ints(claims.map { Int64($0.claim) }), .text(runner)])
    }

    public func rescueExpired(maxLeasesLost: Int, at: Date) async throws(AuditStoreError) -> RescueResult {
        try await store.rescueExpired(maxLeasesLost: maxLeasesLost, at: at)
    }

    public func status(run: RunID) async throws(AuditStoreError) -> QueueStatus {
        store.queueTime.begin()
        defer { store.queueTime.end() }
        let row = try await store.rows("""
            SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'running'),
                   count(*) FILTER (WHERE status = 'running' AND claimed_until < now()),
                   count(*) FILTER (WHERE status NOT IN ('pending', 'running')),
                   extract(epoch FROM greatest(min(run_at) FILTER (WHERE status = 'pending') - now(), interval '0'))::float8
                       * (CASE WHEN count(*) FILTER (WHERE status = 'pending') > 0 THEN 1 END)
            FROM job_claims WHERE run_id = $1
            """, [.int(run)]).first
        guard let row else { return QueueStatus(pending: 0, running: 0, closed: 0, nextDue: nil) }
        return QueueStatus(pending: Int(row.int(0)), running: Int(row.int(1)), expired: Int(row.int(2)),
                           closed: Int(row.int(3)), nextDue: row.double(4).map { .milliseconds(Int64(($0 * 1000).rounded(.up))) })
    }

    public func openRuns() async throws(AuditStoreError) -> [RunID] {
        try await store.rows("""
            SELECT r.id FROM runs r WHERE r.status = 'running' AND EXISTS (
                SELECT 1 FROM job_claims c WHERE c.run_id = r.id AND c.status = 'pending' AND c.run_at <= now())
            ORDER BY r.id
            """).map { $0.int(0) }
    }

    public func busyRuns(commands: Set<String>) async throws(AuditStoreError) -> [RunID] {
        try await store.rows("""
            SELECT r.id FROM runs r WHERE r.status = 'running' AND r.command = ANY($1) AND EXISTS (
                SELECT 1 FROM jobs j WHERE j.run_id = r.id AND j.status IN ('pending', 'running'))
            ORDER BY r.id
            """, [.texts(commands.sorted())]).map { $0.int(0) }
    }

    public func closeClaims(run: RunID) async throws(AuditStoreError) {
        _ = try await store.rows("""
            WITH open AS MATERIALIZED (
                SELECT job_id FROM job_claims WHERE run_id = $1 AND status IN ('pending', 'running') ORDER BY job_id
                FOR UPDATE
            )
            UPDATE job_claims c SET status = 'cancelled', claimed_until = NULL FROM open WHERE c.job_id = open.job_id
            """, [.int(run)])
    }

    public func waitForWork(timeout: Duration) async {
        await store.waitForNotification(timeout: timeout)
    }

    public var refusedWrites: [ClaimFence] { store.refusedFences }

    public var auditWriteMilliseconds: Int { store.writeMilliseconds }

    public func creditAuditTime(run: RunID, milliseconds: Int) async throws(AuditStoreError) {
        try await store.creditAuditTime(run: run, milliseconds: milliseconds)
    }

    /// Jobs per claim status (for tests and the benchmark).
    public func counts() async throws(AuditStoreError) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: try await store.rows("SELECT status, count(*) FROM job_claims GROUP BY status")
            .map { ($0.text(0), Int($0.int(1))) })
    }
}
