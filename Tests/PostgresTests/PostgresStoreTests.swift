import AuditStore
import Foundation
import PostgresStore
import Testing
import TestSupport

/// The PostgreSQL store's protocol behaviour against a real server.
@Suite(.serialized, .enabled(if: PostgresFixture.isInstalled, "needs Debian's postgresql (make deps)"))
struct PostgresStoreTests {
    @Test func recordsRunsJobsAttemptsAndSummaries() async throws {
        let database = try await PostgresDatabase.start()
        let store = try await database.open()
        let runs = try await Workload.write(to: store)
        #expect(runs == [1, 2])

        let summary = try #require(try await store.summary(run: 1, details: true))
        #expect(summary.status == .failed)
        #expect(summary.jobsTotal == 5)
        #expect(summary.jobsSucceeded == 2)
        #expect(summary.jobsSkipped == 1)
        #expect(summary.jobsFailed == 1)
        #expect(summary.jobsCancelled == 1)
        #expect(summary.attemptsTotal == 5)
        #expect(summary.attemptsFailed == 2)
        #expect(summary.tagsPushed == 3)
        #expect(summary.tagsSkipped == 2)
        #expect(summary.retries == 1)
        #expect(summary.requests == 12)
        #expect(summary.bytesUploaded == 4096)
        #expect(summary.rateLimitPauses == 1)
        #expect(summary.rateLimitWaitMs == 750)
        #expect(summary.ledgerRunHead?.count == 64)

        let jobs = try await store.jobs(run: 1)
        #expect(jobs.map(\.status) == [.succeeded, .skipped, .failed, .cancelled, .succeeded])
        #expect(jobs[0].attempts == 2)
        #expect(jobs[0].startedAt == Timestamp.string(Workload.at(1)))
        #expect(jobs[0].durationMs == 1250)
        #expect(jobs[0].source == "placeholder")
        #expect(jobs[1].source == nil)
        #expect(jobs[4].target == "https://maven.example/releases")
        #expect(try await store.resumptions(run: 1) == 1)
        #expect(try await store.latestRunID() == 2)
        #expect(try await store.latestRun(RunSelector(statuses: [.failed]))?.id == 1)
        #expect(try await store.run(2)?.parentRunID == 1)
        #expect(try await store.knownHolder(registry: "r.example", digest: "sha256:d1") == "org/web")
        #expect(try await store.blobHolder(registry: "r.example", digest: "sha256:b1") == "org/api")
        #expect(try await store.blobHolder(registry: "other", digest: "sha256:b1") == nil)

        let state = try await store.state(ReportFilter())
        #expect(state.map { "\($0.repository):\($0.tag)=\($0.digest ?? "-")" }
                == ["releases:lib-1.0.jar=sha1:f00", "org/api:1.0.0=sha256:d1", "org/api:latest=sha256:d1", "org/db:latest=sha256:d2",
                    "org/web:1.0.0=sha256:d1", "org/web:latest=sha256:d1"])
        let release = try await store.release("1.0.0", ReportFilter())
        #expect(release.map { "\($0.repository) \($0.status) \($0.moved)" }
                == [#"org/api released ["latest"]"#, #"org/web released []"#])
        let failures = try await store.failures(ReportFilter())
        #expect(failures.map(\.service) == ["db"])
        #expect(failures.first?.httpStatus == 403)

        let verification = try await store.verifyLedger(expectHead: nil)
        #expect(verification.ok, "\(verification.problems)")
        #expect(verification.rowsChecked > 20)
        #expect(verification.encodings == ["3": verification.entries])
        #expect(try await store.ledgerHead() == verification.head)
        await store.close()
        await database.server.stop()
    }

    @Test func verifyFindsATamperedRowADeletedEntryAndAnUnknownHead() async throws {
        let database = try await PostgresDatabase.start()
        let store = try await database.open()
        try await Workload.write(to: store)
        let head = try #require(try await store.ledgerHead())
        #expect(try await store.verifyLedger(expectHead: head).ok)

        try await database.server.psql("UPDATE attempts SET http_status = 200 WHERE id = 1", database: database.name)
        let altered = try await store.verifyLedger(expectHead: nil)
        #expect(altered.problems.map(\.kind) == [.rowAltered])
        #expect(altered.problems.first?.table == "attempts")
        #expect(altered.problems.first?.rowID == 1)

        try await database.server.psql("DELETE FROM ledger WHERE id = (SELECT max(id) FROM ledger)", database: database.name)
        let cut = try await store.verifyLedger(expectHead: head)
        #expect(cut.problems.contains { $0.kind == .headNotFound })
        await store.close()
        await database.server.stop()
    }

    @Test func pruneKeepsTheChainVerifying() async throws {
        let database = try await PostgresDatabase.start()
        let store = try await database.open()
        try await Workload.write(to: store)
        let dry = try await store.prune(before: Timestamp.string(Workload.at(50)), dryRun: true)
        #expect(dry.runs == [1])
        #expect(try await store.run(1) != nil)

        let pruned = try await store.prune(before: Timestamp.string(Workload.at(50)), dryRun: false)
        #expect(pruned.runs == [1])
        #expect(pruned.jobs == 5)
        #expect(pruned.ledgerEntriesRemoved > 0)
        #expect(try await store.run(1) == nil)
        #expect(try await store.run(2)?.parentRunID == 1)
        let verification = try await store.verifyLedger(expectHead: nil)
        #expect(verification.ok, "\(verification.problems)")
        #expect(verification.anchored)
        #expect(verification.prunedRuns == 1)
        // What the log says each tag holds survives the prune; a new write chains after the anchor.
        #expect(try await store.state(ReportFilter()).count == 6)
        _ = try await store.beginRun(NewRun(command: "verify", commandLine: "stevedore verify", toolVersion: "test",
                                            host: "h", user: "u", startedAt: Workload.at(200)))
        #expect(try await store.verifyLedger(expectHead: nil).ok)
        await store.close()
        await database.server.stop()
    }

    @Test func concurrentWritersFromTwoStoresKeepOneChain() async throws {
        let database = try await PostgresDatabase.start()
        let stores = [try await database.open(), try await database.open()]
        let run = try await stores[0].beginRun(NewRun(command: "provision", commandLine: "c", toolVersion: "t", host: "h",
                                                      user: "u", startedAt: Workload.at(0)))
        let jobs = try await stores[0].insertJobs(run: run, (0..<200).map {
            NewJob(seq: $0, service: "s\($0)", registry: "r", repository: "o/s\($0)", items: ["latest"])
        })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, job) in jobs.enumerated() {
                let store = stores[index % 2]
                group.addTask {
                    let finish = JobFinish(runID: run, jobID: job,
                        completion: JobCompletion(status: .succeeded, digest: "sha256:x", errorClass: nil, errorMessage: nil,
                                                  finishedAt: Workload.at(2)),
                        lastAttempt: AttemptRecord(runID: run, jobID: job, number: 1, startedAt: Workload.at(1),
                                                   durationMs: 5, outcome: .succeeded),
                        items: [ItemResult(item: "latest", action: "pushed", digestAfter: "sha256:x", at: Workload.at(2))])
                    if index % 4 < 2 { try await store.finishJob(finish) } else { store.finishJobDeferred(finish) }
                }
            }
            try await group.waitForAll()
        }
        for store in stores { #expect(await store.flush() == nil) }
        let verification = try await stores[0].verifyLedger(expectHead: nil)
        #expect(verification.ok, "\(verification.problems.prefix(3))")
        // run + 200 inserted jobs + per job: attempt, item result, job update.
        #expect(verification.entries == 1 + 200 + 200 * 3)
        #expect(try await stores[1].summary(run: run)?.jobsSucceeded == 200)
        for store in stores { await store.close() }
        await database.server.stop()
    }

    @Test func aWriteLandsAfterTheFinishesDeferredBeforeIt() async throws {
        let database = try await PostgresDatabase.start()
        let store = try await database.open()
        let run = try await store.beginRun(NewRun(command: "provision", commandLine: "c", toolVersion: "t", host: "h",
                                                  user: "u", startedAt: Workload.at(0)))
        let jobs = try await store.insertJobs(run: run, (0..<20).map {
            NewJob(seq: $0, service: "s\($0)", registry: "r", repository: "o/s\($0)", items: ["latest"])
        })
        for job in jobs {
            store.finishJobDeferred(JobFinish(runID: run, jobID: job,
                completion: JobCompletion(status: .skipped, digest: nil, errorClass: nil, errorMessage: nil,
                                          finishedAt: Workload.at(1))))
        }
        // No flush: the cancel must still see every deferred finish (the run closer relies on it).
        #expect(try await store.cancelUnfinishedJobs(run: run, at: Workload.at(2)) == 0)
        #expect(try await store.summary(run: run, details: false)?.jobsSkipped == 20)
        #expect(await store.flush() == nil)
        await store.close()
        await database.server.stop()
    }

    @Test func storesOpenedTogetherMigrateANewDatabaseOnce() async throws {
        let database = try await PostgresDatabase.start()
        let stores = try await withThrowingTaskGroup(of: PostgresAuditStore.self) { group in
            for _ in 0..<4 { group.addTask { try await database.open() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(stores.count == 4)
        let applied = try await stores[0].appliedMigrations()
        #expect(applied.map(\.version) == [1, 2, 3, 4, 5, 6, 7])
        #expect(try await database.server.psql("SELECT count(*) FROM schema_migrations", database: database.name) == "7")
        for store in stores { await store.close() }
        await database.server.stop()
    }

    @Test func aServerThatGoesAwayMidRunFailsTheWriteInsteadOfHanging() async throws {
        let database = try await PostgresDatabase.start()
        let store = try await database.open()
        let run = try await store.beginRun(NewRun(command: "provision", commandLine: "c", toolVersion: "t", host: "h",
                                                  user: "u", startedAt: Workload.at(0)))
        await database.server.stop()
        let started = ContinuousClock.now
        do {
            try await store.finishRun(run, status: .succeeded, at: Workload.at(1))
            Issue.record("a write succeeded with the server stopped")
        } catch {
            #expect(error.kind == .cannotOpen, "\(error)")
        }
        #expect(ContinuousClock.now - started < .seconds(30))
        await store.close()
    }

    @Test func aReaderRefusesWritesAndAnEmptyDatabase() async throws {
        let database = try await PostgresDatabase.start()
        await #expect(throws: AuditStoreError.self) { _ = try await database.open(readOnly: true) }
        do {
            _ = try await database.open(readOnly: true)
        } catch let error as AuditStoreError {
            #expect(error.kind == .missing)
        }
        let writer = try await database.open()
        await writer.close()
        let reader = try await database.open(readOnly: true)
        do {
            _ = try await reader.beginRun(NewRun(command: "provision", commandLine: "c", toolVersion: "t", host: "h",
                                                 user: "u", startedAt: Workload.at(0)))
            Issue.record("a reader wrote a run")
        } catch {
            #expect(error.message == "opened for reading only")
        }
        await reader.close()
        await database.server.stop()
    }
}
