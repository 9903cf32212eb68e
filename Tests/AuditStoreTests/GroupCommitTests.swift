@testable import AuditStore
import Foundation
import Testing

@Suite struct GroupCommitTests {
    /// A batch shares one transaction, but a failing write is rolled back alone (its savepoint), ledger
    /// entries included, and the writes after it chain from the right head.
    @Test func aFailingWriteInABatchIsRolledBackAloneAndTheChainStaysIntact() throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try AuditStore(path: temporary.path)
        let runID = try store.beginRun(newRun())
        func insertJob(_ seq: Int) -> GroupCommit.Ticket {
            GroupCommit.Ticket { connection, ledger, now throws(AuditStoreError) in
                try connection.run("""
                    INSERT INTO jobs (run_id, seq, service, registry, repository, tags, status)
                    VALUES (?, ?, ?, 'r', ?, '[]', 'pending')
                    """, [.int(runID), .int(seq), .text("s\(seq)"), .text("o/s\(seq)")])
                try ledger.append(.jobs, rowID: connection.lastInsertID, at: now)
            }
        }
        let failing = GroupCommit.Ticket { connection, ledger, now throws(AuditStoreError) in
            try connection.run("""
                INSERT INTO jobs (run_id, seq, service, registry, repository, tags, status)
                VALUES (?, 99, 'doomed', 'r', 'o/doomed', '[]', 'pending')
                """, [.int(runID)])
            try ledger.append(.jobs, rowID: connection.lastInsertID, at: now)
            try connection.run("INSERT INTO no_such_table VALUES (1)")
        }
        let batch = [insertJob(1), failing, insertJob(2)]
        try store.locked { connection throws(AuditStoreError) in
            GroupCommit.run(batch, on: connection, now: "2026-11-25T00:00:00.000Z")
        }
        #expect(batch[0].error == nil && batch[2].error == nil)
        #expect(batch[1].error != nil)
        #expect(try store.jobs(run: runID).map(\.service) == ["s1", "s2"])
        #expect(try store.verifyLedger().problems == [])
    }

    /// Writers on many threads at once all land, each exactly once, and the ledger verifies.
    @Test func concurrentWritersShareCommitsAndAllLand() throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try AuditStore(path: temporary.path)
        let runID = try store.beginRun(newRun())
        let ids = try store.insertJobs(run: runID, (1...400).map {
            NewJob(seq: $0, service: "s\($0)", registry: "r", repository: "o/s\($0)", tags: ["v1"])
        })
        DispatchQueue.concurrentPerform(iterations: 16) { writer in
            for index in stride(from: writer, to: ids.count, by: 16) {
                try? store.finishJob(ids[index], JobCompletion(status: .succeeded, digest: "sha256:1", errorClass: nil,
                                                               errorMessage: nil, finishedAt: Date()),
                                     lastAttempt: AttemptRecord(jobID: ids[index], number: 1, startedAt: Date(), durationMs: 1,
                                                                outcome: .succeeded),
                                     tagResults: [TagResult(jobID: ids[index], tag: "v1", action: .pushed, digestBefore: nil,
                                                            digestAfter: "sha256:1", at: Date())])
            }
        }
        let jobs = try store.jobs(run: runID)
        #expect(jobs.allSatisfy { $0.status == .succeeded && $0.attempts == 1 && $0.startedAt != nil })
        #expect(try store.attemptList(ReportFilter(runID: runID)).count == 400)
        #expect(try store.state(ReportFilter()).count == 400)
        let verification = try store.verifyLedger()
        #expect(verification.problems == [])
        #expect(verification.entries == 1 + 400 + 400 * 3)
    }

    /// A deferred finish waits for company: committed once enough wait, or by the next waiting write, or by
    /// flush(); its error comes back from flush().
    @Test func deferredFinishesAreCommittedByTheNextWriteOrFlush() throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try AuditStore(path: temporary.path)
        let runID = try store.beginRun(newRun())
        let ids = try store.insertJobs(run: runID, (1...20).map {
            NewJob(seq: $0, service: "s\($0)", registry: "r", repository: "o/s\($0)", tags: ["v1"])
        })
        func finish(_ id: JobID) {
            store.finishJobDeferred(id, JobCompletion(status: .succeeded, digest: "sha256:1", errorClass: nil,
                                                      errorMessage: nil, finishedAt: Date()))
        }
        func succeeded() throws -> Int { try store.jobs(run: runID).filter { $0.status == .succeeded }.count }
        finish(ids[0])
        finish(ids[1])
        // A waiting write commits the queue before its own work.
        try store.recordAttempt(AttemptRecord(jobID: ids[2], number: 1, startedAt: Date(), durationMs: 1, outcome: .failed))
        #expect(try succeeded() == 2)
        // Eight waiting deferred finishes commit themselves.
        for id in ids[3..<11] { finish(id) }
        #expect(try succeeded() == 10)
        finish(ids[11])
        #expect(store.flush() == nil)
        #expect(try succeeded() == 11)
        // A deferred write that fails does not throw at its caller; flush() reports it.
        store.finishJobDeferred(99_999, JobCompletion(status: .succeeded, digest: nil, errorClass: nil, errorMessage: nil,
                                                      finishedAt: Date()),
                                tagResults: [TagResult(jobID: 99_999, tag: "v1", action: .pushed, digestBefore: nil,
                                                       digestAfter: nil, at: Date())])
        #expect(store.flush() != nil)
        #expect(try store.verifyLedger().problems == [])
    }
}
