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

    /// Stops the heartbeats; claims never started go back to the queue, and the runner's record goes.
    func leave() async {
        keeper.stop()
        try? await queue.release(keeper.unstarted)
        await queue.unregister()
    }

    /// The jobs of `run` this process claims, as the runner pulls them.
    func claims<Payload: Sendable>(of run: RunID, until: ClaimedJobs<Payload>.Until, options: RunOptions,
                                   context: WorkflowContext,
                                   item: @escaping @Sendable (JobClaim) async -> WorkItem<Payload>?) -> ClaimedJobs<Payload> {
        ClaimedJobs(run: run, until: until, keeper: keeper, batch: batch, time: context.time, item: item)
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
