import AuditStore
import Foundation
import PostgresStore
import Synchronization
import Testing
import TestSupport

/// The PostgreSQL work queue: concurrent claims, leases, heartbeats, rescue and the fenced finish.
@Suite(.serialized, .enabled(if: PostgresFixture.isInstalled, "needs Debian's postgresql (make deps)"))
struct JobQueueTests {
    /// A store with one run of `count` queued jobs.
    private func queued(_ count: Int, _ database: PostgresDatabase) async throws -> (PostgresAuditStore, [JobID]) {
        let store = try await database.open()
        let run = try await store.beginRun(NewRun(command: "provision", commandLine: "c", toolVersion: "t", host: "h",
                                                  user: "u", startedAt: Workload.at(0)))
        let jobs = try await store.insertJobs(run: run, (0..<count).map {
            NewJob(seq: $0, service: "s\($0)", registry: "r", repository: "o/s\($0)", items: ["latest"])
        })
        try await PostgresJobQueue(store: store, runner: "enqueuer").enqueue(jobs)
        return (store, jobs)
    }

    @Test func concurrentRunnersClaimEveryJobExactlyOnce() async throws {
        let database = try await PostgresDatabase.start()
        let (store, jobs) = try await queued(300, database)
        let other = try await database.open()
        let claimed = ClaimLog()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for runner in 0..<4 {
                let queue = PostgresJobQueue(store: runner % 2 == 0 ? store : other, runner: "runner-\(runner)")
                group.addTask {
                    while true {
                        let batch = try await queue.claim(limit: 8)
                        if batch.isEmpty { return }
                        #expect(batch.count <= 8)
                        for job in batch {
                            #expect(job.attempt == 1)
                            #expect(try await queue.complete(job))
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
        #expect(try await PostgresJobQueue(store: store, runner: "x").counts() == ["done": 300])
        // A run whose jobs went through the queue can be pruned with its claims.
        try await store.finishRun(1, status: .succeeded, at: Workload.at(10))
        #expect(try await store.prune(before: Timestamp.string(Workload.at(20)), dryRun: false).jobs == 300)
        #expect(try await PostgresJobQueue(store: store, runner: "x").counts().isEmpty)
        #expect(try await store.verifyLedger(expectHead: nil).ok)
        await store.close()
        await other.close()
        await database.server.stop()
    }

    @Test func anExpiredLeaseIsRescuedAndTheOldHolderIsFencedOut() async throws {
        let database = try await PostgresDatabase.start()
        let (store, _) = try await queued(2, database)
        let slow = PostgresJobQueue(store: store, runner: "slow", lease: .milliseconds(300), maxAttempts: 2)
        let fast = PostgresJobQueue(store: store, runner: "fast", lease: .seconds(30), maxAttempts: 2)
        let held = try await slow.claim(limit: 1)
        #expect(held.count == 1)
        #expect(try await slow.rescueExpired() == 0)
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await fast.rescueExpired() == 1)
        let taken = try await fast.claim(limit: 2)
        #expect(taken.map(\.jobID) == [held[0].jobID, held[0].jobID + 1])
        #expect(taken[0].attempt == 2)
        // The old holder's heartbeat reports the loss, and its finish does not count.
        #expect(try await slow.heartbeat(held) == held)
        #expect(try await slow.complete(held[0]) == false)
        #expect(try await fast.complete(taken[0]))
        #expect(try await fast.complete(taken[1]))
        #expect(try await fast.counts() == ["done": 2])
        await store.close()
        await database.server.stop()
    }

    @Test func heartbeatsKeepALeaseAndAttemptsAreCapped() async throws {
        let database = try await PostgresDatabase.start()
        let (store, _) = try await queued(1, database)
        let runner = PostgresJobQueue(store: store, runner: "a", lease: .milliseconds(400), maxAttempts: 2)
        let held = try await runner.claim(limit: 1)
        for _ in 0..<5 {
            try await Task.sleep(for: .milliseconds(150))
            #expect(try await runner.heartbeat(held).isEmpty)
            #expect(try await runner.rescueExpired() == 0)
        }
        // Without heartbeats the lease expires; after the second claim expires too, the job is abandoned.
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await runner.rescueExpired() == 1)
        #expect(try await runner.claim(limit: 1).first?.attempt == 2)
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await runner.rescueExpired() == 1)
        #expect(try await runner.claim(limit: 1).isEmpty)
        #expect(try await runner.counts() == ["abandoned": 1])
        await store.close()
        await database.server.stop()
    }
}

/// Every job id claimed, across runner tasks.
private final class ClaimLog: Sendable {
    private let ids = Mutex<[JobID]>([])
    func add(_ batch: [JobID]) { ids.withLock { $0 += batch } }
    var all: [JobID] { ids.withLock { $0 } }
}
