import AuditStore
import Foundation
import JobRunner

/// A run worked on through the store's shared queue (PostgreSQL): this process registered as a runner, its leases
/// kept by a ``LeaseKeeper``, and the jobs it runs claimed in batches.
struct SharedQueue: Sendable {
    let keeper: LeaseKeeper
    /// Jobs claimed at a time: half the concurrency, so a runner never sits on many jobs others could run.
    let batch: Int

    var queue: any JobQueue { keeper.queue }

    /// Registers this process with `log`'s queue and starts its heartbeats; nil when the store has no queue (SQLite).
    static func join(_ log: any RunLog, role: RunnerRole, run: RunID?, options: RunOptions,
                     context: WorkflowContext) async throws(WorkflowError) -> SharedQueue? {
        guard let queue = log.jobQueue(lease: options.lease) else { return nil }
        try await audited { try await queue.register(role: role, run: run) }
        let keeper = LeaseKeeper(queue: queue, maxLeasesLost: options.maxLeasesLost, time: context.time,
                                 progress: context.progress)
        keeper.start()
        return SharedQueue(keeper: keeper, batch: max(1, options.concurrency / 2))
    }

    /// Stops the heartbeats; claims never started go back to the queue, and the runner's record says it left. Done
    /// in a task of its own, so an interrupted runner still leaves properly.
    func leave() async {
        let (keeper, queue) = (self.keeper, self.queue)
        await Task {
            keeper.stop()
            try? await queue.release(keeper.unstarted)
            await queue.unregister()
        }.value
    }

    /// The jobs of `run` this process claims, as the runner pulls them.
    func claims<Payload: Sendable>(of run: RunID, among: [JobID]?, until: ClaimedJobs<Payload>.Until,
                                   context: WorkflowContext,
                                   item: @escaping @Sendable (JobClaim) async -> WorkItem<Payload>?) -> ClaimedJobs<Payload> {
        ClaimedJobs(run: run, among: among, until: until, keeper: keeper, batch: batch, time: context.time, item: item)
    }

    /// Before a run that died is resumed: expired leases come back with their lost attempts recorded, and what is
    /// left of the run in the queue is closed (its jobs are queued again, phase by phase, by the resuming process).
    static func takeBack(_ run: RunID, _ log: any RunLog, options: RunOptions, context: WorkflowContext)
        async throws(WorkflowError) {
        guard let queue = log.jobQueue(lease: options.lease) else { return }
        _ = try await audited { try await queue.rescueExpired(maxLeasesLost: options.maxLeasesLost, at: context.time.wallClock) }
        try await audited { try await queue.closeClaims(run: run) }
    }

    /// The runner for claimed jobs: one attempt per claim, a retry scheduled in the queue.
    static func runner(_ options: RunOptions, _ context: WorkflowContext) -> JobRunner {
        JobRunner(concurrency: options.concurrency, retry: RetryPolicy(maxAttempts: options.maxAttempts),
                  deadlineAfter: options.deadline, time: context.time, schedulesRetries: true)
    }

    /// The retry policy's state of a claimed job, as earlier claims left it.
    static func retryState<Payload>(_ item: WorkItem<Payload>) -> RetryState {
        guard let claim = item.claim else { return RetryState() }
        return RetryState(attempts: claim.priorAttempts, counted: claim.counters.counted,
                          consecutive: claim.counters.consecutive)
    }
}
