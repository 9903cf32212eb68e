import AuditStore
import Foundation
import JobRunner

/// A run's jobs through the shared queue: the starting process enqueues them and works on them until every runner is
/// done with them; a `stevedore worker` joins with claims of its own.
extension RunSession {
    /// Enqueues `jobs` in the shared queue and works on them with every other runner until none is pending or held:
    /// each claim is one attempt under a lease, a retry is scheduled in the queue.
    func runShared(_ jobs: [Item], _ shared: SharedQueue,
                   attempt: @escaping @Sendable (Item, AttemptInfo) async throws -> Handler.Output,
                   events: @escaping @Sendable (RunnerEvent<Item, Handler.Output>) async -> Void) async throws {
        guard let runID = jobs.first?.runID else { return }
        try await audited { try await shared.queue.enqueue(run: runID, jobs: jobs.map(\.id)) }
        let byID = Dictionary(jobs.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        try await work(on: runID, among: jobs.map(\.id), until: .drained, shared, attempt: attempt, events: events) { claim in
            byID[claim.jobID]?.claimed(claim)
        }
    }

    /// A worker's share of a run another process started: claims until nothing of it is pending (what other runners
    /// hold is theirs to finish). `item` makes a claimed job's work item (nil: this process cannot run it).
    func join(_ runID: RunID, _ body: @escaping @Sendable (Item, AttemptInfo) async throws -> Handler.Output,
              item: @escaping @Sendable (JobClaim) async -> Item?) async throws {
        guard let shared else { return }
        try await work(on: runID, among: nil, until: .nothingPending, shared, attempt: classified(body),
                       events: recording(FailureTally()), item: item)
    }

    private func work(on runID: RunID, among: [JobID]?, until: ClaimedJobs<Handler.Payload>.Until, _ shared: SharedQueue,
                      attempt: @escaping @Sendable (Item, AttemptInfo) async throws -> Handler.Output,
                      events: @escaping @Sendable (RunnerEvent<Item, Handler.Output>) async -> Void,
                      item: @escaping @Sendable (JobClaim) async -> Item?) async throws {
        let claimed = shared.claims(of: runID, among: among, until: until, context: context, item: item)
        let keeper = shared.keeper
        try await SharedQueue.runner(options, context).run(jobs: claimed, state: SharedQueue.retryState, attempt: { job, info in
            guard let fence = job.claim?.fence else { return try await attempt(job, info) }
            return try await keeper.guarding(fence) { try await attempt(job, info) }
        }, events: events)
    }

    /// How `job` failed, as recorded by whichever runner ran it (nil: it did not fail).
    func recordedFailure(of job: Item) async throws(WorkflowError) -> JobFailure? {
        guard let row = try await recordedJobs(run: job.runID).first(where: { $0.id == job.id }),
              row.status == .failed else { return nil }
        return JobFailure(failureClass: FailureClass(rawValue: row.errorClass ?? "internal"),
                          message: row.errorMessage ?? "failed")
    }

    /// Whether every one of `jobs` ended succeeded or skipped, as recorded by whichever runner ran it.
    func recordedOutcome(of jobs: [Item]) async throws(WorkflowError) -> Bool {
        guard let runID = jobs.first?.runID else { return true }
        let ids = Set(jobs.map(\.id))
        return try await recordedJobs(run: runID)
            .filter { ids.contains($0.id) }
            .allSatisfy { $0.status == .succeeded || $0.status == .skipped }
    }

    /// The run's jobs as every runner recorded them, once this process's deferred writes are committed.
    private func recordedJobs(run: RunID) async throws(WorkflowError) -> [JobRow] {
        let log = recorder.log
        if let error = await log.flush() { throw .audit(error) }
        return try await audited { try await log.jobs(run: run) }
    }
}
