import AuditStore
@testable import SQLiteStore
import Checksums
import Foundation
import Testing
import TestSupport

/// Runs the sqlite3 command-line tool on `path`, as someone tampering with the log would.
func sqlite3(_ path: String, _ sql: String) async throws {
    let result = try await ChildProcess.run(executable: "/usr/bin/sqlite3", arguments: [path, sql], environment: [:])
    #expect(result.exitCode == 0, "sqlite3 \(sql): \(result.stderr)")
}

/// A database with `runs` finished runs of `jobs` jobs each: two attempts per job (the first failed), two tags.
func recordedRuns(_ path: String, runs: Int = 3, jobs: Int = 4, firstStart: Date = Date(timeIntervalSince1970: 1_700_000_000),
                  spacing: TimeInterval = 86_400) async throws -> SQLiteAuditStore {
    let store = try SQLiteAuditStore(path: path)
    for index in 0..<runs {
        var run = newRun()
        run.startedAt = firstStart.addingTimeInterval(Double(index) * spacing)
        let runID = try await store.beginRun(run)
        let ids = try await store.insertJobs(run: runID, (1...jobs).map {
            NewJob(seq: $0, service: "svc\($0)", registry: "127.0.0.1:5000", repository: "org/svc\($0)", items: ["v1", "latest"])
        })
        for (offset, id) in ids.enumerated() {
            let at = run.startedAt.addingTimeInterval(Double(offset))
            try await store.recordAttempt(AttemptRecord(runID: runID, jobID: id, number: 1, startedAt: at, durationMs: 30, outcome: .failed,
                                                  httpStatus: 503, errorCode: "UNAVAILABLE", errorClass: "server",
                                                  message: "503", requests: 2, bytesSent: 10, waitMs: 200, waitReason: "backoff"))
            try await store.finishJob(JobFinish(
                runID: runID, jobID: id,
                completion: JobCompletion(status: .succeeded, digest: "sha256:\(index)", errorClass: nil, errorMessage: nil,
                                          finishedAt: at.addingTimeInterval(0.5)),
                lastAttempt: AttemptRecord(runID: runID, jobID: id, number: 2, startedAt: at, durationMs: 20,
                                           outcome: .succeeded, requests: 3, bytesSent: 500),
                items: ["v1", "latest"].map { ItemResult(item: $0, action: "pushed", digestAfter: "sha256:\(index)", at: at) }))
        }
        try await store.recordPause(PauseRecord(runID: runID, registry: "127.0.0.1:5000", at: run.startedAt, durationMs: 1000,
                                                rateAfter: nil, reason: "429"))
        try await store.finishRun(runID, status: .succeeded, at: run.startedAt.addingTimeInterval(60))
    }
    return store
}

@Suite struct LedgerTests {
    @Test func anUntouchedLogVerifies() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try await recordedRuns(temporary.path)
        let result = try await store.verifyLedger(expectHead: nil)
        #expect(result.problems == [])
        // 3 runs × (begin, finish) + 12 jobs × (insert, running, 2 attempts + 2 job updates... ) : every write is chained.
        #expect(result.entries > 3 * 4 * 7)
        #expect(result.head == (try await store.ledgerHead()))
        #expect(try await store.verifyLedger(expectHead: try await store.ledgerHead()).ok)
    }

    @Test func anUpdateIsPinnedToItsRow() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try await recordedRuns(temporary.path)
        try await sqlite3(temporary.path, "UPDATE attempts SET http_status = 200 WHERE id = 5")
        let problems = try await store.verifyLedger(expectHead: nil).problems
        #expect(problems.count == 1)
        #expect(problems.first?.kind == .rowAltered)
        #expect(problems.first?.table == "attempts")
        #expect(problems.first?.rowID == 5)
    }

    @Test func aDeleteIsFound() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try await recordedRuns(temporary.path)
        try await sqlite3(temporary.path, "DELETE FROM item_results WHERE id = 7")
        let problems = try await store.verifyLedger(expectHead: nil).problems
        #expect(problems.map(\.kind) == [.rowDeleted])
        #expect(problems.first?.table == "item_results")
        #expect(problems.first?.rowID == 7)
        #expect(problems.first?.runID == 1)
    }

    @Test func anInsertIsFound() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try await recordedRuns(temporary.path)
        try await sqlite3(temporary.path, """
            INSERT INTO jobs (run_id, seq, service, registry, repository, items, status)
            VALUES (2, 99, 'ghost', '127.0.0.1:5000', 'org/ghost', '["v1"]', 'succeeded')
            """)
        let problems = try await store.verifyLedger(expectHead: nil).problems
        #expect(problems.map(\.kind) == [.rowInserted])
        #expect(problems.first?.table == "jobs")
        #expect(problems.first?.rowID == 13)
    }

    @Test func editsToTheLedgerItselfBreakTheChain() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try await recordedRuns(temporary.path)
        let head = try #require(try await store.ledgerHead())
        try await sqlite3(temporary.path, "UPDATE ledger SET row_sha256 = zeroblob(32) WHERE id = 10")
        #expect(try await store.verifyLedger(expectHead: nil).problems.contains { $0.kind == .entryAltered && $0.ledgerID == 10 })
        try await sqlite3(temporary.path, "DELETE FROM ledger WHERE id = 20")
        #expect(try await store.verifyLedger(expectHead: nil).problems.contains { $0.kind == .entriesMissing && $0.ledgerID == 20 })
        // A cut-off end is caught with a head kept elsewhere.
        let fresh = try TemporaryDatabase()
        defer { fresh.remove() }
        let other = try await recordedRuns(fresh.path)
        let kept = try #require(try await other.ledgerHead())
        try await sqlite3(fresh.path, "DELETE FROM ledger WHERE id = (SELECT max(id) FROM ledger)")
        #expect(try await other.verifyLedger(expectHead: kept).problems.contains { $0.kind == .headNotFound })
        #expect(head.count == 64)
    }

    @Test func pruneKeepsTheChainVerifiableAndTheState() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try await recordedRuns(temporary.path, runs: 4)
        let stateBefore = try await store.state(ReportFilter())
        // Runs 1 and 2 started before day 2.
        let cutoff = Timestamp.string(Date(timeIntervalSince1970: 1_700_000_000 + 1.5 * 86_400))
        let dry = try await store.prune(before: cutoff, dryRun: true)
        #expect(dry.runs == [1, 2])
        #expect(try await store.runList(ReportFilter()).count == 4)
        let result = try await store.prune(before: cutoff, dryRun: false)
        #expect(result.runs == [1, 2])
        #expect(result.jobs == 8)
        #expect(result.attempts == 16)
        #expect(result.ledgerEntriesRemoved > 0)
        #expect(try await store.runList(ReportFilter()).map(\.runID) == [4, 3])
        let verification = try await store.verifyLedger(expectHead: nil)
        #expect(verification.problems == [])
        #expect(verification.anchored)
        #expect(verification.prunedRuns == 2)
        // What the log says each tag holds survives the prune.
        #expect(try await store.state(ReportFilter()) == stateBefore)
        // A second prune, and tampering afterwards is still caught.
        let later = Timestamp.string(Date(timeIntervalSince1970: 1_700_000_000 + 2.5 * 86_400))
        #expect(try await store.prune(before: later, dryRun: false).runs == [3])
        #expect(try await store.verifyLedger(expectHead: nil).problems == [])
        try await sqlite3(temporary.path, "UPDATE jobs SET status = 'failed' WHERE run_id = 4 AND seq = 2")
        #expect(try await store.verifyLedger(expectHead: nil).problems.map(\.kind) == [.rowAltered])
        try await sqlite3(temporary.path, "DELETE FROM pruned_runs WHERE run_id = 1")
        #expect(try await store.verifyLedger(expectHead: nil).problems.contains { $0.kind == .rowDeleted && $0.table == "pruned_runs" })
    }

    @Test func rowsWrittenBeforeTheLedgerAreAdoptedWhenItIsCreated() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        // A database at schema version 2, with a run written by a stevedore that had no ledger.
        try FileManager.default.createDirectory(atPath: temporary.directory + "/nested", withIntermediateDirectories: true)
        do {
            let connection = try Connection(path: temporary.path, readOnly: false)
            try Migrator(connection: connection, migrations: Array(EmbeddedMigrations.all.prefix(2))).migrate(at: "2026-01-01T00:00:00.000Z")
            try connection.execute("""
                INSERT INTO runs (command, command_line, tool_version, host, user, status, started_at)
                VALUES ('provision', 'stevedore provision s.yaml', 'old', 'h', 'u', 'succeeded', '2026-01-01T00:00:00.000Z');
                INSERT INTO jobs (run_id, seq, service, registry, repository, tags, status) VALUES (1, 1, 'a', 'r', 'o/a', '[]', 'succeeded');
                INSERT INTO tag_results (job_id, tag, action, digest_after, recorded_at) VALUES (1, 'v1', 'pushed', 'sha256:1', '2026-01-01T00:00:00.000Z');
                """)
        }
        let store = try SQLiteAuditStore(path: temporary.path)
        let adopted = try await store.verifyLedger(expectHead: nil)
        #expect(adopted.problems == [])
        #expect(adopted.entries == 3)
        // The migration also filled the state projection from the old tag results.
        #expect(try await store.state(ReportFilter()).map(\.digest) == ["sha256:1"])
        // Deleting the ledger later is not papered over by a new adoption.
        try await sqlite3(temporary.path, "DELETE FROM ledger")
        let reopened = try SQLiteAuditStore(path: temporary.path)
        #expect(try await reopened.verifyLedger(expectHead: nil).problems.map(\.kind) == [.rowInserted, .rowInserted, .rowInserted])
    }
}
