import Foundation

/// What every write about a claimed job is fenced on: the job, the claim's number and the runner holding it. A
/// runner whose lease was taken over (it stopped renewing it) no longer matches, and its writes are refused.
public struct ClaimFence: Sendable, Hashable {
    public var jobID: JobID
    /// Claims of the job so far, this one included.
    public var claim: Int
    public var runner: String

    public init(jobID: JobID, claim: Int, runner: String) {
        self.jobID = jobID
        self.claim = claim
        self.runner = runner
    }
}

/// The retry policy's counters, carried from one claim of a job to the next (a retry is scheduled in the queue, and
/// any runner may make it).
public struct RetryCounters: Sendable, Equatable {
    /// Failed attempts that count against the attempt limit.
    public var counted: Int
    /// Failures since the job last advanced (the back-off exponent).
    public var consecutive: Int

    public init(counted: Int = 0, consecutive: Int = 0) {
        self.counted = counted
        self.consecutive = consecutive
    }
}

/// A failed attempt's job goes back to the queue, to be claimed again after `afterMs`.
public struct Reschedule: Sendable, Equatable {
    public var afterMs: Int
    public var counters: RetryCounters

    public init(afterMs: Int, counters: RetryCounters) {
        self.afterMs = afterMs
        self.counters = counters
    }
}

/// One job a runner holds, with what the next attempt needs to know of the ones before it.
public struct JobClaim: Sendable, Equatable {
    public var runID: RunID
    public var fence: ClaimFence
    /// Attempts recorded for the job before this claim (the next attempt's number follows them).
    public var priorAttempts: Int
    public var counters: RetryCounters

    public var jobID: JobID { fence.jobID }

    public init(runID: RunID, fence: ClaimFence, priorAttempts: Int, counters: RetryCounters) {
        self.runID = runID
        self.fence = fence
        self.priorAttempts = priorAttempts
        self.counters = counters
    }
}

/// Where a run's queued jobs are.
public struct QueueStatus: Sendable, Equatable {
    /// Waiting to be claimed (now, or after a scheduled retry).
    public var pending: Int
    /// Held by a runner.
    public var running: Int
    /// Held, but the lease expired: a rescue returns them.
    public var expired: Int
    /// Finished, given up, or closed with the run.
    public var closed: Int
    /// How long until the earliest pending job may be claimed (zero: now; nil: nothing pending).
    public var nextDue: Duration?

    public init(pending: Int, running: Int, expired: Int = 0, closed: Int, nextDue: Duration?) {
        self.pending = pending
        self.running = running
        self.expired = expired
        self.closed = closed
        self.nextDue = nextDue
    }

    /// Nothing left to claim or to wait for.
    public var isDrained: Bool { pending == 0 && running == 0 }
}

/// What a rescue of expired leases did.
public struct RescueResult: Sendable, Equatable {
    /// Jobs back in the queue, each with its lost attempt recorded.
    public var requeued: [JobID]
    /// Jobs given up after losing their lease too often, recorded as failed (`lease_lost`).
    public var abandoned: [JobID]

    public init(requeued: [JobID] = [], abandoned: [JobID] = []) {
        self.requeued = requeued
        self.abandoned = abandoned
    }

    public var isEmpty: Bool { requeued.isEmpty && abandoned.isEmpty }
}

/// What a heartbeat found of the claims it was asked to renew.
public struct Heartbeat: Sendable, Equatable {
    /// No longer this runner's: another runner took the job over, or its run closed the claim.
    public var lost: [ClaimFence]
    /// Done: the job's finish was committed.
    public var finished: [ClaimFence]

    public init(lost: [ClaimFence] = [], finished: [ClaimFence] = []) {
        self.lost = lost
        self.finished = finished
    }
}

/// How a runner process takes part in runs.
public enum RunnerRole: String, Sendable {
    /// It started (or resumed) a run and closes it.
    case starter
    /// `stevedore worker`: it joins runs started elsewhere.
    case worker
}

/// A run's jobs shared by several runner processes, possibly on several machines (the PostgreSQL store): claims are
/// leases kept alive by heartbeats, expired leases are rescued by any runner, and every write about a claimed job is
/// fenced on its ``ClaimFence``.
public protocol JobQueue: Sendable {
    /// This runner's name (`host:pid:nonce`), recorded as the holder of its claims.
    var runner: String { get }
    /// How long a claim stays with a runner that stops renewing it.
    var lease: Duration { get }

    /// Announces this runner (heartbeats keep it alive; a starter's run is died once it stops beating).
    func register(role: RunnerRole, run: RunID?) async throws(AuditStoreError)
    /// This runner is done: its record goes, its unstarted claims return to the queue.
    func unregister() async
    /// Makes `jobs` of `run` claimable now (jobs already queued and not finished are queued again).
    func enqueue(run: RunID, jobs: [JobID]) async throws(AuditStoreError)
    /// Claims up to `limit` due jobs (of `run` only, or of any run still running; with `among`, only those jobs),
    /// oldest first.
    func claim(run: RunID?, among: [JobID]?, limit: Int) async throws(AuditStoreError) -> [JobClaim]
    /// Renews the leases of `held` and this runner's heartbeat; says which it no longer holds: lost (taken over,
    /// closed) or finished (its finish was committed).
    func heartbeat(_ held: [ClaimFence]) async throws(AuditStoreError) -> Heartbeat
    /// Gives claims back unstarted (an interrupted runner).
    func release(_ claims: [ClaimFence]) async throws(AuditStoreError)
    /// Returns expired leases to the queue with their lost attempt recorded, or gives the job up after
    /// `maxLeasesLost` losses; every runner calls it.
    func rescueExpired(maxLeasesLost: Int, at: Date) async throws(AuditStoreError) -> RescueResult
    func status(run: RunID) async throws(AuditStoreError) -> QueueStatus
    /// Runs still running whose queue has a job due now, oldest first.
    func openRuns() async throws(AuditStoreError) -> [RunID]
    /// Runs of `commands` still running with a job unfinished (queued or not yet: its canary is in flight, or its next
    /// phase not queued yet): runs a worker may still be needed by.
    func busyRuns(commands: Set<String>) async throws(AuditStoreError) -> [RunID]
    /// Closes every claim of `run` still pending or held (the run ended): later writes fenced on them are refused.
    func closeClaims(run: RunID) async throws(AuditStoreError)
    /// Waits until a job was queued anywhere since the previous call returned, or `timeout` passes (LISTEN/NOTIFY
    /// where the store has it, listening from ``register(role:run:)`` of a worker on).
    func waitForWork(timeout: Duration) async
    /// Fences this process's writes were refused on (its lease had been taken over), since it started.
    var refusedWrites: [ClaimFence] { get }
    /// Milliseconds this process had audit writes under way since its store was opened.
    var auditWriteMilliseconds: Int { get }
    /// Adds a worker's audit write time to `run`'s record, which then holds what every runner spent on it.
    func creditAuditTime(run: RunID, milliseconds: Int) async throws(AuditStoreError)
}
