import AuditStore
import Foundation
import PostgresStore
import Synchronization
import Testing
import TestSupport
import Timekeeping

/// The PostgreSQL work queue: concurrent claims, leases, heartbeats, rescue with the lost attempt recorded, the
/// fenced writes, scheduled retries, and the shared rate budget.
@Suite(.serialized, .enabled(if: PostgresFixture.isInstalled, "needs Debian's postgresql (make deps)"))
struct JobQueueTests {
    /// A store with one run of `count` queued jobs.
    private func queued(_ count: Int, _ database: PostgresDatabase) async throws -> (PostgresAuditStore, RunID, [JobID]) {
        let store = try await database.open()
        let run = try await store.beginRun(NewRun(command: "provision", commandLine: "c", toolVersion: "t", host: "h",
                                                  user: "u", startedAt: Workload.at(0)))
        let jobs = try await store.insertJobs(run: run, (0..<count).map {
            NewJob(seq: $0, service: "s\($0)", registry: "r", repository: "o/s\($0)", items: ["latest"])
        })
        try await PostgresJobQueue(store: store, runner: "enqueuer").enqueue(run: run, jobs: jobs)
        return (store, run, jobs)
    }

    private func succeeded(_ claim: JobClaim, at seconds: Double = 1) -> JobFinish {
        let attempt = AttemptRecord(runID: claim.runID, jobID: claim.jobID, number: claim.priorAttempts + 1,
                                    startedAt: Workload.at(seconds), durationMs: 5, outcome: .succeeded)
        return JobFinish(runID: claim.runID, jobID: claim.jobID,
                         completion: JobCompletion(status: .succeeded, digest: "sha256:d", errorClass: nil, errorMessage: nil,
                                                   finishedAt: Workload.at(seconds)),
                         lastAttempt: attempt, fence: claim.fence)
    }

    @Test func concurrentRunnersClaimEveryJobExactlyOnce() async throws {
        let database = try await PostgresDatabase.start()
        let (store, run, jobs) = try await queued(300, database)
        let other = try await database.open()
        let claimed = ClaimLog()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for runner in 0..<4 {
                let owner = runner % 2 == 0 ? store : other
                let queue = PostgresJobQueue(store: owner, runner: "runner-\(runner)")
                group.addTask {
                    while true {
                        let batch = try await queue.claim(run: runner == 3 ? nil : run, limit: 8)
                        if batch.isEmpty { return }
                        #expect(batch.count <= 8)
                        for claim in batch {
                            #expect(claim.fence.claim == 1)
                            #expect(claim.priorAttempts == 0)
                            try await owner.finishJob(self.succeeded(claim))
                        }
                        claimed.add(batch.map(\.jobID))
                    }
                }
            }
            try await group.waitForAll()
        }
        let all = claimed.all
        #expect(all.count == jobs.count)
        #expect(Set(all) == Set(jobs))
        let queue = PostgresJobQueue(store: store, runner: "x")
        #expect(try await queue.counts() == ["done": 300])
        #expect(try await queue.status(run: run) == QueueStatus(pending: 0, running: 0, closed: 300, nextDue: nil))
        #expect(store.refusedFences.isEmpty && other.refusedFences.isEmpty)
        // A run whose jobs went through the queue can be pruned with its claims.
        try await store.finishRun(run, status: .succeeded, at: Workload.at(10))
        #expect(try await store.prune(before: Timestamp.string(Workload.at(20)), dryRun: false).jobs == 300)
        #expect(try await queue.counts().isEmpty)
        #expect(try await store.verifyLedger(expectHead: nil).ok)
        await store.close()
        await other.close()
        await database.server.stop()
    }

    @Test func anExpiredLeaseIsRescuedWithItsLostAttemptAndTheOldHolderIsFencedOut() async throws {
        let database = try await PostgresDatabase.start()
        let (store, run, jobs) = try await queued(2, database)
        let slow = PostgresJobQueue(store: store, runner: "slow", lease: .milliseconds(300))
        let fast = PostgresJobQueue(store: store, runner: "fast", lease: .seconds(30))
        let held = try await slow.claim(run: run, limit: 1)
        #expect(held.map(\.jobID) == [jobs[0]])
        #expect(try await slow.rescueExpired(maxLeasesLost: 3, at: Workload.at(1)).isEmpty)
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await fast.rescueExpired(maxLeasesLost: 3, at: Workload.at(2)) == RescueResult(requeued: [jobs[0]]))
        // The lost attempt is in the log, as attempt 1 of the job, naming the runner.
        let lost = try await database.server.psql(
            "SELECT number || ' ' || outcome || ' ' || error_class FROM attempts WHERE job_id = \(jobs[0])", database: database.name)
        #expect(lost == "1 failed lease_lost")
        let message = try await database.server.psql("SELECT message FROM attempts WHERE job_id = \(jobs[0])", database: database.name)
        #expect(message.hasPrefix("runner slow stopped renewing its lease"))
        let taken = try await fast.claim(run: run, limit: 2)
        #expect(taken.map(\.jobID) == jobs)
        #expect(taken[0].fence.claim == 2)
        #expect(taken[0].priorAttempts == 1)
        // The old holder's heartbeat reports the loss, and its finish is refused: the job is not recorded as its.
        #expect(try await slow.heartbeat(held.map(\.fence)) == Heartbeat(lost: held.map(\.fence)))
        try await store.finishJob(succeeded(held[0]))
        #expect(store.refusedFences == [held[0].fence])
        #expect(try await store.jobs(run: run).first?.status == .running)
        try await store.finishJob(succeeded(taken[0], at: 3))
        // A heartbeat tells a committed finish from a lost lease.
        #expect(try await fast.heartbeat(taken.map(\.fence)) == Heartbeat(finished: [taken[0].fence]))
        try await store.finishJob(succeeded(taken[1], at: 3))
        #expect(try await store.jobs(run: run).map(\.status) == [.succeeded, .succeeded])
        #expect(try await fast.counts() == ["done": 2])
        #expect(try await store.verifyLedger(expectHead: nil).ok)
        await store.close()
        await database.server.stop()
    }

    @Test func heartbeatsKeepALeaseAndAJobThatKeepsLosingItIsGivenUp() async throws {
        let database = try await PostgresDatabase.start()
        let (store, run, jobs) = try await queued(1, database)
        let runner = PostgresJobQueue(store: store, runner: "a", lease: .milliseconds(400))
        let held = try await runner.claim(run: run, limit: 1)
        for _ in 0..<5 {
            try await Task.sleep(for: .milliseconds(150))
            #expect(try await runner.heartbeat(held.map(\.fence)) == Heartbeat())
            #expect(try await runner.rescueExpired(maxLeasesLost: 2, at: Workload.at(1)).isEmpty)
        }
        // Without heartbeats the lease expires; the second loss gives the job up, recorded as failed.
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await runner.rescueExpired(maxLeasesLost: 2, at: Workload.at(2)).requeued == jobs)
        #expect(try await runner.claim(run: run, limit: 1).first?.fence.claim == 2)
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await runner.rescueExpired(maxLeasesLost: 2, at: Workload.at(3)).abandoned == jobs)
        #expect(try await runner.claim(run: run, limit: 1).isEmpty)
        #expect(try await runner.counts() == ["abandoned": 1])
        let job = try #require(try await store.jobs(run: run).first)
        #expect(job.status == .failed)
        #expect(job.errorClass == "lease_lost")
        #expect(job.attempts == 2)
        #expect(try await store.verifyLedger(expectHead: nil).ok)
        await store.close()
        await database.server.stop()
    }

    @Test func aRescheduledAttemptComesBackAfterItsWaitWithItsCounters() async throws {
        let database = try await PostgresDatabase.start()
        let (store, run, _) = try await queued(1, database)
        let queue = PostgresJobQueue(store: store, runner: "r")
        let claim = try #require(try await queue.claim(run: run, limit: 1).first)
        var attempt = AttemptRecord(runID: run, jobID: claim.jobID, number: 1, startedAt: Workload.at(1), durationMs: 3,
                                    outcome: .failed, httpStatus: 503, errorClass: "server", message: "unavailable")
        attempt.waitMs = 1500
        attempt.fence = claim.fence
        attempt.reschedule = Reschedule(afterMs: 1500, counters: RetryCounters(counted: 1, consecutive: 1))
        try await store.recordAttempt(attempt)
        #expect(try await queue.claim(run: run, limit: 1).isEmpty)
        let status = try await queue.status(run: run)
        #expect(status.pending == 1 && status.running == 0)
        #expect((status.nextDue ?? .zero) > .milliseconds(500))
        #expect(try await queue.openRuns().isEmpty)
        #expect(try await queue.busyRuns(commands: ["provision"]) == [run])
        #expect(try await queue.busyRuns(commands: ["maven-publish"]).isEmpty)
        try await Task.sleep(for: .milliseconds(1600))
        #expect(try await queue.openRuns() == [run])
        let again = try #require(try await queue.claim(run: nil, limit: 1).first)
        #expect(again.priorAttempts == 1)
        #expect(again.counters == RetryCounters(counted: 1, consecutive: 1))
        #expect(again.fence.claim == 2)
        // A run that closes takes its claims with it: a holder's later finish is refused.
        try await queue.closeClaims(run: run)
        try await store.finishJob(succeeded(again))
        #expect(store.refusedFences == [again.fence])
        #expect(try await queue.counts() == ["cancelled": 1])
        await store.close()
        await database.server.stop()
    }

    @Test func theRateBudgetSpacesEveryRunnersSlotsAndCarriesPauses() async throws {
        let database = try await PostgresDatabase.start()
        let store = try await database.open()
        let other = try await database.open()
        let budgets = [PostgresRateBudget(store: store), PostgresRateBudget(store: other)]
        // Two runners booking five slots each at 10/s: the bookings follow one another, 0.5 s apart (each start
        // is from the moment of its booking, so the time between the calls is added back).
        let clock = ContinuousClock(), origin = clock.now
        var starts: [Double] = []
        for index in 0..<4 {
            let before = clock.now
            let booking = try await budgets[index % 2].reserve(host: "ghcr.io", rate: 10, count: 5)
            let after = clock.now
            #expect(abs(booking.interval - 0.1) < 1e-9)
            let elapsed = ((before - origin) + (after - origin)) / 2
            starts.append(booking.start + elapsed.seconds)
        }
        for (earlier, later) in zip(starts, starts.dropFirst()) { #expect(abs(later - earlier - 0.5) < 0.1) }
        // A throttle met by one runner: the other's next booking starts after the pause, at half the rate.
        let rate = try await budgets[0].throttled(host: "ghcr.io", pause: 3, factor: 0.5, floor: 2.5)
        #expect(rate == 5)
        let after = try await budgets[1].reserve(host: "ghcr.io", rate: 10, count: 1)
        #expect(after.start > 2.5)
        #expect(after.rate == 5)
        // Without a rate, a booking only learns of the pause.
        let free = try await budgets[1].reserve(host: "ghcr.io", rate: nil, count: 1)
        #expect(free.start > 2.5 && free.start <= 3.05)
        #expect(free.rate == nil)
        #expect(try await budgets[0].state(host: "ghcr.io")?.pauses == 1)
        #expect(try await budgets[0].reserve(host: "other.example", rate: nil, count: 1).start == 0)
        await store.close()
        await other.close()
        await database.server.stop()
    }
}

/// Every job id claimed, across runner tasks.
private final class ClaimLog: Sendable {
    private let ids = Mutex<[JobID]>([])
    func add(_ batch: [JobID]) { ids.withLock { $0 += batch } }
    var all: [JobID] { ids.withLock { $0 } }
}
