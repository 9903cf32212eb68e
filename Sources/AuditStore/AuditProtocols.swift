import Foundation

/// What the workflows write to the audit log, and the few things they read back while a run goes on.
///
/// Every method is async and never blocks a thread of the cooperative pool; a backend serialises its writes
/// itself (SQLite: a writer thread with group commit; PostgreSQL: its transactions). A call that returns has
/// its rows committed, except ``finishJobDeferred(_:)``, which rides along with the next commit.
public protocol RunLog: Sendable {
    /// Where the log lives, for messages: a file path, or a server URL without its password.
    var location: String { get }

    func beginRun(_ run: NewRun) async throws(AuditStoreError) -> RunID
    /// Records every job of a run as pending, in one transaction, before any request is sent.
    func insertJobs(run: RunID, _ jobs: [NewJob]) async throws(AuditStoreError) -> [JobID]
    /// A failed or cancelled attempt, written before the next one starts (the job becomes `running`).
    func recordAttempt(_ attempt: AttemptRecord) async throws(AuditStoreError)
    /// Closes a job with its last attempt and item results, in one transaction.
    func finishJob(_ finish: JobFinish) async throws(AuditStoreError)
    /// ``finishJob(_:)`` without waiting: concurrent workers' finishes share a commit. A crash can lose it.
    func finishJobDeferred(_ finish: JobFinish)
    /// Commits deferred writes now; returns the first error a deferred write met, if any.
    func flush() async -> AuditStoreError?
    func recordPause(_ pause: PauseRecord) async throws(AuditStoreError)
    /// Marks the run's pending and running jobs as cancelled; returns how many.
    func cancelUnfinishedJobs(run: RunID, at: Date) async throws(AuditStoreError) -> Int
    /// Closes a run; records this process's audit write time with it.
    func finishRun(_ id: RunID, status: RunStatus, at: Date) async throws(AuditStoreError)
    /// Picks a died or interrupted run up again (status back to running, the resumption recorded).
    func reopenRun(_ id: RunID, commandLine: String, pid: Int32, at: Date) async throws(AuditStoreError)
    /// Runs recorded as running on `host` whose process is gone become `died`; returns their ids.
    func markDiedRuns(host: String, isAlive: @escaping @Sendable (Int32) -> Bool) async throws(AuditStoreError) -> [RunID]

    func run(_ id: RunID) async throws(AuditStoreError) -> RunRow?
    /// The newest run that fits `selector` (among the last thousand).
    func latestRun(_ selector: RunSelector) async throws(AuditStoreError) -> RunRow?
    func jobs(run: RunID) async throws(AuditStoreError) -> [JobRow]
    /// A repository on `registry` the log says holds `digest`, to mount its blobs from.
    func knownHolder(registry: String, digest: String) async throws(AuditStoreError) -> String?
    /// A repository on `registry` the log says holds blob `digest` (the newest blob action on it).
    func blobHolder(registry: String, digest: String) async throws(AuditStoreError) -> String?
    /// Counts of one run; `details: false` leaves out what needs a pass over every attempt.
    func summary(run id: RunID, details: Bool) async throws(AuditStoreError) -> RunSummary?
    /// The queue this process shares with other runner processes, when the store can hold one (PostgreSQL; nil for
    /// the embedded SQLite file): runs work through it, and `stevedore worker` joins them. `lease`: how long a job this
    /// process claims stays its own without a heartbeat.
    func jobQueue(lease: Duration) -> (any JobQueue)?
}

/// What reports read. Readers never write: a backend opened for reading refuses writes.
public protocol AuditReader: Sendable {
    var location: String { get }
    func latestRunID() async throws(AuditStoreError) -> RunID?
    func run(_ id: RunID) async throws(AuditStoreError) -> RunRow?
    func jobs(run: RunID) async throws(AuditStoreError) -> [JobRow]
    func summary(run id: RunID, details: Bool) async throws(AuditStoreError) -> RunSummary?
    func runList(_ filter: ReportFilter) async throws(AuditStoreError) -> [RunListRow]
    func failures(_ filter: ReportFilter) async throws(AuditStoreError) -> [FailureRow]
    func serviceHistory(_ service: String, _ filter: ReportFilter) async throws(AuditStoreError) -> [ServiceHistoryRow]
    func state(_ filter: ReportFilter) async throws(AuditStoreError) -> [StateRow]
    /// Per repository, what release `version` pushed and whether the mutable tags moved to it.
    func release(_ version: String, _ filter: ReportFilter) async throws(AuditStoreError) -> [ReleaseRow]
    func attemptList(_ filter: ReportFilter) async throws(AuditStoreError) -> [AttemptListRow]
    func limiterPauses(run: RunID) async throws(AuditStoreError) -> [PauseRow]
    func resumptions(run: RunID) async throws(AuditStoreError) -> Int
}

/// Checking and trimming the log: the tamper-evidence chain and `prune`.
public protocol AuditMaintenance: Sendable {
    var location: String { get }
    /// Recomputes the ledger's chains and compares every audit row with its latest entry; `expectHead` (hex)
    /// is a head kept outside the database, which must be in the chain.
    func verifyLedger(expectHead: String?) async throws(AuditStoreError) -> LedgerVerification
    /// The newest ledger entry's hash (hex).
    func ledgerHead() async throws(AuditStoreError) -> String?
    /// Deletes the finished runs started before `before` (stored timestamp form), keeping the chain verifiable.
    func prune(before: String, dryRun: Bool) async throws(AuditStoreError) -> PruneResult
}

extension RunLog {
    public func jobQueue(lease: Duration) -> (any JobQueue)? { nil }

    public func summary(run id: RunID) async throws(AuditStoreError) -> RunSummary? {
        try await summary(run: id, details: true)
    }
}

/// What `prune` removed (or would remove, in a dry run).
public struct PruneResult: Sendable, Codable {
    public var runs: [RunID]
    public var jobs: Int
    public var attempts: Int
    public var ledgerEntriesRemoved: Int
    public var bytesBefore: Int64
    public var bytesAfter: Int64
    public var dryRun: Bool

    public init(runs: [RunID], jobs: Int, attempts: Int, ledgerEntriesRemoved: Int, bytesBefore: Int64,
                bytesAfter: Int64, dryRun: Bool) {
        self.runs = runs
        self.jobs = jobs
        self.attempts = attempts
        self.ledgerEntriesRemoved = ledgerEntriesRemoved
        self.bytesBefore = bytesBefore
        self.bytesAfter = bytesAfter
        self.dryRun = dryRun
    }
}

/// One pause of every worker by the rate limiter, as recorded.
public struct PauseRow: Sendable, Codable, Equatable {
    public var registry: String
    public var pausedAt: String
    public var durationMs: Int
    public var rateAfter: Double?
    public var reason: String

    public init(registry: String, pausedAt: String, durationMs: Int, rateAfter: Double?, reason: String) {
        self.registry = registry
        self.pausedAt = pausedAt
        self.durationMs = durationMs
        self.rateAfter = rateAfter
        self.reason = reason
    }
}
