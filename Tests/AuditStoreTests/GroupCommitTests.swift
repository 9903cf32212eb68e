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
}
