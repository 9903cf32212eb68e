@testable import AuditStore
import Foundation
import Testing

/// Runs the sqlite3 command-line tool on `path`, as someone tampering with the log would.
func sqlite3(_ path: String, _ sql: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    process.arguments = [path, sql]
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    process.waitUntilExit()
    let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(process.terminationStatus == 0, "sqlite3 \(sql): \(message)")
}

/// A database with `runs` finished runs of `jobs` jobs each: two attempts per job (the first failed), two tags.
func recordedRuns(_ path: String, runs: Int = 3, jobs: Int = 4, firstStart: Date = Date(timeIntervalSince1970: 1_700_000_000),
                  spacing: TimeInterval = 86_400) throws -> AuditStore {
    let store = try AuditStore(path: path)
    for index in 0..<runs {
        var run = newRun()
        run.startedAt = firstStart.addingTimeInterval(Double(index) * spacing)
        let runID = try store.beginRun(run)
        let ids = try store.insertJobs(run: runID, (1...jobs).map {
            NewJob(seq: $0, service: "svc\($0)", registry: "127.0.0.1:5000", repository: "org/svc\($0)", tags: ["v1", "latest"])
        })
        for (offset, id) in ids.enumerated() {
            let at = run.startedAt.addingTimeInterval(Double(offset))
            try store.markJobRunning(id, at: at)
            try store.recordAttempt(AttemptRecord(jobID: id, number: 1, startedAt: at, durationMs: 30, outcome: .failed,
                                                  httpStatus: 503, errorCode: "UNAVAILABLE", errorClass: "server",
                                                  message: "503", requests: 2, bytesSent: 10, waitMs: 200, waitReason: "backoff"))
            try store.recordAttempt(AttemptRecord(jobID: id, number: 2, startedAt: at, durationMs: 20, outcome: .succeeded,
                                                  requests: 3, bytesSent: 500))
            for tag in ["v1", "latest"] {
                try store.recordTagResult(TagResult(jobID: id, tag: tag, action: .pushed, digestBefore: nil,
                                                    digestAfter: "sha256:\(index)", at: at))
            }
            try store.finishJob(id, JobCompletion(status: .succeeded, digest: "sha256:\(index)", errorClass: nil,
                                                  errorMessage: nil, finishedAt: at.addingTimeInterval(0.5)))
        }
        try store.recordPause(run: runID, registry: "127.0.0.1:5000", at: run.startedAt, durationMs: 1000, rateAfter: nil,
                              reason: "429")
        try store.finishRun(runID, status: .succeeded, at: run.startedAt.addingTimeInterval(60))
    }
    return store
}

@Suite struct LedgerTests {
    @Test func anUntouchedLogVerifies() throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try recordedRuns(temporary.path)
        let result = try store.verifyLedger()
        #expect(result.problems == [])
        // 3 runs × (begin, finish) + 12 jobs × (insert, running, 2 attempts + 2 job updates... ) : every write is chained.
        #expect(result.entries > 3 * 4 * 7)
        #expect(result.head == (try store.ledgerHead()))
        #expect(try store.verifyLedger(expectHead: try store.ledgerHead()).ok)
    }

    @Test func anUpdateIsPinnedToItsRow() throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try recordedRuns(temporary.path)
        try sqlite3(temporary.path, "UPDATE attempts SET http_status = 200 WHERE id = 5")
        let problems = try store.verifyLedger().problems
        #expect(problems.count == 1)
        #expect(problems.first?.kind == .rowAltered)
        #expect(problems.first?.table == "attempts")
        #expect(problems.first?.rowID == 5)
    }

    @Test func aDeleteIsFound() throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try recordedRuns(temporary.path)
        try sqlite3(temporary.path, "DELETE FROM tag_results WHERE id = 7")
        let problems = try store.verifyLedger().problems
        #expect(problems.map(\.kind) == [.rowDeleted])
        #expect(problems.first?.table == "tag_results")
        #expect(problems.first?.rowID == 7)
        #expect(problems.first?.runID == 1)
    }

    @Test func anInsertIsFound() throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try recordedRuns(temporary.path)
        try sqlite3(temporary.path, """
            INSERT INTO jobs (run_id, seq, service, registry, repository, tags, status)
            VALUES (2, 99, 'ghost', '127.0.0.1:5000', 'org/ghost', '["v1"]', 'succeeded')
            """)
        let problems = try store.verifyLedger().problems
        #expect(problems.map(\.kind) == [.rowInserted])
        #expect(problems.first?.table == "jobs")
        #expect(problems.first?.rowID == 13)
    }

    @Test func editsToTheLedgerItselfBreakTheChain() throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try recordedRuns(temporary.path)
        let head = try #require(try store.ledgerHead())
        try sqlite3(temporary.path, "UPDATE ledger SET row_sha256 = zeroblob(32) WHERE id = 10")
        #expect(try store.verifyLedger().problems.contains { $0.kind == .entryAltered && $0.ledgerID == 10 })
        try sqlite3(temporary.path, "DELETE FROM ledger WHERE id = 20")
        #expect(try store.verifyLedger().problems.contains { $0.kind == .entriesMissing && $0.ledgerID == 20 })
        // A cut-off end is caught with a head kept elsewhere.
        let fresh = try TemporaryDatabase()
        defer { fresh.remove() }
        let other = try recordedRuns(fresh.path)
        let kept = try #require(try other.ledgerHead())
        try sqlite3(fresh.path, "DELETE FROM ledger WHERE id = (SELECT max(id) FROM ledger)")
        #expect(try other.verifyLedger(expectHead: kept).problems.contains { $0.kind == .headNotFound })
        #expect(head.count == 64)
    }

    @Test func pruneKeepsTheChainVerifiableAndTheState() throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try recordedRuns(temporary.path, runs: 4)
        let stateBefore = try store.state(ReportFilter())
        // Runs 1 and 2 started before day 2.
        let cutoff = Timestamp.string(Date(timeIntervalSince1970: 1_700_000_000 + 1.5 * 86_400))
        let dry = try store.prune(before: cutoff, dryRun: true)
        #expect(dry.runs == [1, 2])
        #expect(try store.runList(ReportFilter()).count == 4)
        let result = try store.prune(before: cutoff)
        #expect(result.runs == [1, 2])
        #expect(result.jobs == 8)
        #expect(result.attempts == 16)
        #expect(result.ledgerEntriesRemoved > 0)
        #expect(try store.runList(ReportFilter()).map(\.runID) == [4, 3])
        let verification = try store.verifyLedger()
        #expect(verification.problems == [])
        #expect(verification.anchored)
        #expect(verification.prunedRuns == 2)
        // What the log says each tag holds survives the prune.
        #expect(try store.state(ReportFilter()) == stateBefore)
        // A second prune, and tampering afterwards is still caught.
        let later = Timestamp.string(Date(timeIntervalSince1970: 1_700_000_000 + 2.5 * 86_400))
        #expect(try store.prune(before: later).runs == [3])
        #expect(try store.verifyLedger().problems == [])
        try sqlite3(temporary.path, "UPDATE jobs SET status = 'failed' WHERE run_id = 4 AND seq = 2")
        #expect(try store.verifyLedger().problems.map(\.kind) == [.rowAltered])
        try sqlite3(temporary.path, "DELETE FROM pruned_runs WHERE run_id = 1")
        #expect(try store.verifyLedger().problems.contains { $0.kind == .rowDeleted && $0.table == "pruned_runs" })
    }

    @Test func rowsWrittenBeforeTheLedgerAreAdoptedWhenItIsCreated() throws {
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
        let store = try AuditStore(path: temporary.path)
        let adopted = try store.verifyLedger()
        #expect(adopted.problems == [])
        #expect(adopted.entries == 3)
        // The migration also filled tag_state from the old tag results.
        #expect(try store.state(ReportFilter()).map(\.digest) == ["sha256:1"])
        // Deleting the ledger later is not papered over by a new adoption.
        try sqlite3(temporary.path, "DELETE FROM ledger")
        let reopened = try AuditStore(path: temporary.path)
        #expect(try reopened.verifyLedger().problems.map(\.kind) == [.rowInserted, .rowInserted, .rowInserted])
    }
}
