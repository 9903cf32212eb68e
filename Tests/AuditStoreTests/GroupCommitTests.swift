import AuditStore
import Foundation
@testable import SQLiteStore
import Testing

@Suite struct GroupCommitTests {
    /// Writes queued while the writer thread is busy share one transaction, but a failing write is rolled back alone
    /// (its savepoint), ledger entries included, and the writes after it chain from the right head.
    @Test func aFailingWriteInABatchIsRolledBackAloneAndTheChainStaysIntact() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try SQLiteAuditStore(path: temporary.path)
        let runID = try await store.beginRun(newRun())
        func insertJob(_ seq: Int, fail: Bool = false) -> WriterThread.Write {
            { _, ledger throws(AuditStoreError) in
                try ledger.write(.jobs, """
                    INSERT INTO jobs (run_id, seq, service, registry, repository, items, status)
                    VALUES (?, ?, ?, 'r', ?, '[]', 'pending') \(ledger.returning(.jobs))
                    """, [.int(runID), .int(Int64(seq)), .text("s\(seq)"), .text("o/s\(seq)")])
                if fail { _ = try ledger.connection.run("INSERT INTO no_such_table VALUES (1)") }
            }
        }
        // Deferred writes wait for company; the waiting write after them commits all four in one transaction.
        store.thread.writeDeferred(insertJob(1))
        store.thread.writeDeferred(insertJob(99, fail: true))
        store.thread.writeDeferred(insertJob(2))
        try await store.thread.write { connection, _ throws(AuditStoreError) in
            // Inside the same transaction: the three deferred writes ran first.
            let count = try connection.query("SELECT count(*) FROM jobs") { $0.int(0) }.first
            #expect(count == 2)
        }
        #expect(await store.flush() != nil, "the failed deferred write is reported")
        #expect(try await store.jobs(run: runID).map(\.service) == ["s1", "s2"])
        #expect(try await store.verifyLedger(expectHead: nil).problems == [])
    }

    /// Writers on many tasks at once all land, each exactly once, and the ledger verifies.
    @Test func concurrentWritersShareCommitsAndAllLand() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try SQLiteAuditStore(path: temporary.path)
        let runID = try await store.beginRun(newRun())
        let ids = try await store.insertJobs(run: runID, (1...400).map {
            NewJob(seq: $0, service: "s\($0)", registry: "r", repository: "o/s\($0)", items: ["v1"])
        })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<16 {
                group.addTask {
                    for index in stride(from: writer, to: ids.count, by: 16) {
                        try await store.finishJob(JobFinish(
                            runID: runID, jobID: ids[index],
                            completion: JobCompletion(status: .succeeded, digest: "sha256:1", errorClass: nil,
                                                      errorMessage: nil, finishedAt: Date()),
                            lastAttempt: AttemptRecord(runID: runID, jobID: ids[index], number: 1, startedAt: Date(),
                                                       durationMs: 1, outcome: .succeeded),
                            items: [ItemResult(item: "v1", action: "pushed", digestAfter: "sha256:1", at: Date())]))
                    }
                }
            }
            try await group.waitForAll()
        }
        let jobs = try await store.jobs(run: runID)
        #expect(jobs.allSatisfy { $0.status == .succeeded && $0.attempts == 1 && $0.startedAt != nil })
        #expect(try await store.attemptList(ReportFilter(runID: runID)).count == 400)
        #expect(try await store.state(ReportFilter()).count == 400)
        let verification = try await store.verifyLedger(expectHead: nil)
        #expect(verification.problems == [])
        // begin, 400 inserts, and per finish: the attempt, the item, the job's end (with its attempt count and start).
        #expect(verification.entries == 1 + 400 + 400 * 3)
    }

    /// A deferred finish waits for company: committed once enough wait, or by the next waiting write, or by
    /// flush(); its error comes back from flush().
    @Test func deferredFinishesAreCommittedByTheNextWriteOrFlush() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try SQLiteAuditStore(path: temporary.path)
        let runID = try await store.beginRun(newRun())
        let ids = try await store.insertJobs(run: runID, (1...20).map {
            NewJob(seq: $0, service: "s\($0)", registry: "r", repository: "o/s\($0)", items: ["v1"])
        })
        func finish(_ id: JobID) {
            store.finishJobDeferred(JobFinish(runID: runID, jobID: id, completion: JobCompletion(
                status: .succeeded, digest: "sha256:1", errorClass: nil, errorMessage: nil, finishedAt: Date())))
        }
        func succeeded() async throws -> Int { try await store.jobs(run: runID).filter { $0.status == .succeeded }.count }
        finish(ids[0])
        finish(ids[1])
        // A waiting write commits the queue with its own work.
        try await store.recordAttempt(AttemptRecord(runID: runID, jobID: ids[2], number: 1, startedAt: Date(), durationMs: 1,
                                                    outcome: .failed))
        #expect(try await succeeded() == 2)
        // Reads run after the writes queued before them, deferred ones included.
        for id in ids[3..<11] { finish(id) }
        #expect(try await succeeded() == 10)
        finish(ids[11])
        #expect(await store.flush() == nil)
        #expect(try await succeeded() == 11)
        // A deferred write that fails does not throw at its caller; flush() reports it.
        store.finishJobDeferred(JobFinish(runID: runID, jobID: 99_999,
                                          completion: JobCompletion(status: .succeeded, digest: nil, errorClass: nil,
                                                                    errorMessage: nil, finishedAt: Date()),
                                          items: [ItemResult(item: "v1", action: "pushed", at: Date())]))
        #expect(await store.flush() != nil)
        #expect(try await store.verifyLedger(expectHead: nil).problems == [])
    }

    /// The writer thread commits a lone deferred write by itself once it has lingered, without another write.
    @Test func aLoneDeferredWriteIsCommittedAfterItsLinger() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try SQLiteAuditStore(path: temporary.path)
        let runID = try await store.beginRun(newRun())
        let id = try await store.insertJobs(run: runID, [NewJob(seq: 1, service: "s", registry: "r", repository: "o/s",
                                                                 items: ["v1"])])[0]
        store.finishJobDeferred(JobFinish(runID: runID, jobID: id, completion: JobCompletion(
            status: .succeeded, digest: nil, errorClass: nil, errorMessage: nil, finishedAt: Date())))
        // Another connection sees it once the writer thread committed it (100 ms of linger; polled, not slept on).
        let reader = try SQLiteAuditStore.openForReading(path: temporary.path)
        defer { reader.stopWithoutFlush() }
        var seen = false
        let giveUp = ContinuousClock.now + .seconds(30)
        while !seen, ContinuousClock.now < giveUp {
            seen = try await reader.jobs(run: runID).first?.status == .succeeded
            if !seen { await Task.yield() }
        }
        #expect(seen)
    }
}
