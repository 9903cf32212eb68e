import AuditStore
import Foundation
import Timekeeping

/// The jobs of one run as this process claims them from the shared queue, for the ``JobRunner`` to pull: a batch is
/// claimed when the runner wants a job and none is left from the last batch. While nothing is due it waits (for a
/// scheduled retry, a rescue, or a notification) and rescues expired leases itself, until the run's queue is
/// drained (the starting process: nothing pending or held) or has nothing pending (a worker: others finish theirs).
struct ClaimedJobs<Payload: Sendable>: AsyncSequence, Sendable {
    typealias Element = WorkItem<Payload>

    enum Until: Sendable {
        /// Nothing pending and nothing held by any runner: every job of the run (phase) has ended.
        case drained
        /// Nothing pending: what others hold is theirs to finish.
        case nothingPending
    }

    let run: RunID
    /// Only these jobs of the run (a phase, the canary); nil: any.
    let among: [JobID]?
    let until: Until
    let keeper: LeaseKeeper
    /// Jobs claimed at a time.
    let batch: Int
    let time: any TimeSource
    /// The work item of a claimed job; nil gives the claim back (a job this process cannot run).
    let item: @Sendable (JobClaim) async -> WorkItem<Payload>?
    /// Longest wait between looks at the queue while nothing is due.
    var poll: Duration = .milliseconds(250)

    var queue: any JobQueue { keeper.queue }

    struct AsyncIterator: AsyncIteratorProtocol {
        let jobs: ClaimedJobs
        var buffer: [WorkItem<Payload>] = []

        mutating func next() async throws -> WorkItem<Payload>? {
            while !Task.isCancelled {
                if !buffer.isEmpty { return buffer.removeFirst() }
                let claims = try await jobs.queue.claim(run: jobs.run, among: jobs.among, limit: jobs.batch)
                if !claims.isEmpty {
                    jobs.keeper.hold(claims)
                    var refused: [ClaimFence] = []
                    for claim in claims {
                        if let item = await jobs.item(claim) { buffer.append(item) } else { refused.append(claim.fence) }
                    }
                    if !refused.isEmpty {
                        for fence in refused { jobs.keeper.drop(fence) }
                        try await jobs.queue.release(refused)
                    }
                    continue
                }
                let status = try await jobs.queue.status(run: jobs.run)
                switch jobs.until {
                case .drained where status.isDrained, .nothingPending where status.pending == 0:
                    return nil
                default:
                    break
                }
                // Nothing due now: a retry is scheduled, or other runners hold the rest. Expired leases come back here
                // (and every lease/2 from the keeper).
                if status.expired > 0, await !jobs.keeper.rescue().isEmpty { continue }
                let wait = Swift.min(status.nextDue ?? jobs.poll, jobs.poll)
                try await jobs.time.sleep(for: Swift.max(wait, .milliseconds(5)))
            }
            return nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(jobs: self) }
}
