import AuditStore
import Foundation
import PostgresNIO

/// One job a runner holds: its lease is valid while `attempt` is still the job's and the runner still its holder.
public struct ClaimedJob: Sendable, Equatable {
    public var jobID: JobID
    public var runID: RunID
    public var attempt: Int
}

/// The work queue on PostgreSQL (migration 0006, `job_claims`): runners on any machine claim pending jobs with
/// `FOR UPDATE SKIP LOCKED` inside a MATERIALIZED CTE (so the LIMIT is applied once and no job goes to two runners),
/// each claim a lease (`claimed_by`, `claimed_until`, `attempt + 1`) kept alive by heartbeats; expired leases go back
/// to pending (at most `maxAttempts` claims), and a finish counts only for the lease's current holder and attempt.
public struct PostgresJobQueue: Sendable {
    public let store: PostgresAuditStore
    /// This runner's name in `claimed_by` (host and pid, say).
    public let runner: String
    public let lease: Duration
    public let maxAttempts: Int

    public init(store: PostgresAuditStore, runner: String, lease: Duration = .seconds(30), maxAttempts: Int = 5) {
        self.store = store
        self.runner = runner
        self.lease = lease
        self.maxAttempts = maxAttempts
    }

    private var leaseSeconds: Double { Double(lease.components.seconds) + Double(lease.components.attoseconds) / 1e18 }

    /// Makes `jobs` claimable (jobs already queued are left as they are).
    public func enqueue(_ jobs: [JobID]) async throws(AuditStoreError) {
        _ = try await store.rows("""
            INSERT INTO job_claims (job_id) SELECT unnest($1::bigint[]) ON CONFLICT (job_id) DO NOTHING
            """, [.ints(jobs)])
    }

    /// Claims up to `limit` pending jobs, oldest first, for one lease.
    public func claim(limit: Int) async throws(AuditStoreError) -> [ClaimedJob] {
        try await store.rows("""
            WITH picked AS MATERIALIZED (
                SELECT job_id FROM job_claims WHERE status = 'pending' ORDER BY job_id LIMIT $1 FOR UPDATE SKIP LOCKED
            )
            UPDATE job_claims c SET status = 'running', claimed_by = $2,
                claimed_until = now() + make_interval(secs => $3), attempt = c.attempt + 1
            FROM picked JOIN jobs j ON j.id = picked.job_id
            WHERE c.job_id = picked.job_id
            RETURNING c.job_id, j.run_id, c.attempt
            """, [.int(limit), .text(runner), .double(leaseSeconds)]).map {
            ClaimedJob(jobID: $0.int(0), runID: $0.int(1), attempt: Int($0.int(2)))
        }.sorted { $0.jobID < $1.jobID }
    }

    /// Extends the leases this runner still holds; returns the jobs whose lease it lost (taken over after expiry).
    public func heartbeat(_ jobs: [ClaimedJob]) async throws(AuditStoreError) -> [ClaimedJob] {
        guard !jobs.isEmpty else { return [] }
        let kept = Set(try await store.rows("""
            UPDATE job_claims c SET claimed_until = now() + make_interval(secs => $1)
            FROM unnest($2::bigint[], $3::bigint[]) AS h(job_id, attempt)
            WHERE c.job_id = h.job_id AND c.attempt = h.attempt AND c.claimed_by = $4 AND c.status = 'running'
            RETURNING c.job_id
            """, [.double(leaseSeconds), .ints(jobs.map(\.jobID)), .ints(jobs.map { Int64($0.attempt) }), .text(runner)])
            .map { $0.int(0) })
        return jobs.filter { !kept.contains($0.jobID) }
    }

    /// Returns expired leases to pending, or abandons the job after `maxAttempts` claims; returns how many.
    public func rescueExpired() async throws(AuditStoreError) -> Int {
        try await store.rows("""
            UPDATE job_claims SET status = CASE WHEN attempt >= $1 THEN 'abandoned' ELSE 'pending' END,
                claimed_by = NULL, claimed_until = NULL
            WHERE status = 'running' AND claimed_until < now()
            RETURNING job_id
            """, [.int(maxAttempts)]).count
    }

    /// Marks `job` done if this runner still holds that attempt's lease; false means the lease was lost and the
    /// result must not be recorded as the job's.
    public func complete(_ job: ClaimedJob) async throws(AuditStoreError) -> Bool {
        try await store.rows("""
            UPDATE job_claims SET status = 'done', claimed_until = NULL
            WHERE job_id = $1 AND attempt = $2 AND claimed_by = $3 AND status = 'running' RETURNING job_id
            """, [.int(job.jobID), .int(job.attempt), .text(runner)]).count == 1
    }

    /// Jobs per claim status.
    public func counts() async throws(AuditStoreError) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: try await store.rows("SELECT status, count(*) FROM job_claims GROUP BY status")
            .map { ($0.text(0), Int($0.int(1))) })
    }
}
