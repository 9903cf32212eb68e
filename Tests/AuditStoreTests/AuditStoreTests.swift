import AuditStore
@testable import SQLiteStore
import Checksums
import Foundation
import Testing

/// A fresh database file in a temporary directory.
struct TemporaryDatabase {
    let directory: String
    var path: String { directory + "/nested/audit.db" }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

func newRun(_ command: String = "provision", pid: Int32? = 42) -> NewRun {
    NewRun(command: command, commandLine: "stevedore \(command) s.yaml", toolVersion: "test", host: "host-a", user: "me",
           inputFile: "s.yaml", inputSHA256: "sha256:00", registry: "127.0.0.1:5000", namespace: "org",
           startedAt: Date(timeIntervalSince1970: 1_700_000_000), pid: pid)
}

@Suite struct AuditStoreTests {
    @Test func migrationsApplyOnceAndAreRecorded() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try SQLiteAuditStore(path: temporary.path)
        let applied = try await store.appliedMigrations()
        #expect(applied.map(\.version) == EmbeddedMigrations.all.map(\.version))
        #expect(applied.first?.name == "initial")
        // Reopening applies nothing again and keeps the data.
        _ = try await store.beginRun(newRun())
        let reopened = try SQLiteAuditStore(path: temporary.path)
        #expect(try await reopened.appliedMigrations().count == applied.count)
        #expect(try await reopened.latestRunID() == 1)
    }

    @Test func embeddedMigrationsAreTheFilesByteForByte() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files.count == EmbeddedMigrations.all.count)
        for (file, migration) in zip(files, EmbeddedMigrations.all) {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            #expect(text == migration.sql, "\(file)")
            #expect(file == String(format: "%04d_%@.sql", migration.version, migration.name))
        }
    }

    @Test func aFileThatIsNotADatabaseIsRefusedAndLeftAlone() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        try FileManager.default.createDirectory(atPath: temporary.directory + "/nested", withIntermediateDirectories: true)
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) })
        try garbage.write(to: URL(fileURLWithPath: temporary.path))
        do {
            _ = try SQLiteAuditStore(path: temporary.path)
            Issue.record("expected notADatabase")
        } catch {
            #expect(error.kind == .notADatabase)
            #expect(error.description.contains("not a sqlite database or is corrupt"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: temporary.path)) == garbage)
        #expect(!FileManager.default.fileExists(atPath: temporary.path + "-wal"))
    }

    @Test func aNewerSchemaIsRefused() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try SQLiteAuditStore(path: temporary.path)
        _ = try await store.read { connection throws(AuditStoreError) in try connection.run("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (9999, 'future', 'x', 'now')") }
        await store.close()
        do {
            _ = try SQLiteAuditStore(path: temporary.path)
            Issue.record("expected newerSchema")
        } catch {
            #expect(error.kind == .newerSchema)
            #expect(error.description.contains("upgrade stevedore"))
        }
    }

    @Test func anEditedMigrationIsDetected() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try SQLiteAuditStore(path: temporary.path)
        _ = try await store.read { connection throws(AuditStoreError) in try connection.run("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1") }
        await store.close()
        #expect(throws: AuditStoreError.self) { _ = try SQLiteAuditStore(path: temporary.path) }
    }

    @Test func runJobAttemptAndTagLifecycle() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try SQLiteAuditStore(path: temporary.path)
        let run = try await store.beginRun(newRun())
        let ids = try await store.insertJobs(run: run, [
            NewJob(seq: 1, service: "a", registry: "r", repository: "org/a", items: ["latest", "1.0"]),
            NewJob(seq: 2, service: "b", registry: "r", repository: "org/b", items: ["latest"]),
            NewJob(seq: 3, service: "c", registry: "r", repository: "org/c", items: ["latest"]),
        ])
        #expect(ids.count == 3)
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        try await store.recordAttempt(AttemptRecord(runID: run, jobID: ids[0], number: 1, startedAt: start, durationMs: 12, outcome: .failed,
                                              httpStatus: 503, errorCode: "UNAVAILABLE", errorClass: "server",
                                              message: "busy", requests: 3, bytesSent: 10, waitMs: 200, waitReason: "backoff"))
        try await store.finishJob(JobFinish(
            runID: run, jobID: ids[0],
            completion: JobCompletion(status: .succeeded, digest: "sha256:aa", errorClass: nil, errorMessage: nil,
                                      finishedAt: start.addingTimeInterval(1.5)),
            lastAttempt: AttemptRecord(runID: run, jobID: ids[0], number: 2, startedAt: start, durationMs: 8,
                                       outcome: .succeeded, requests: 4, bytesSent: 600),
            items: [ItemResult(item: "latest", action: "pushed", digestAfter: "sha256:aa", at: start),
                    ItemResult(item: "1.0", action: "kept", digestBefore: "sha256:bb", digestAfter: "sha256:bb", at: start)]))
        try await store.finishJob(JobFinish(runID: run, jobID: ids[1],
                                            completion: JobCompletion(status: .failed, digest: nil, errorClass: "denied",
                                                                      errorMessage: "no", finishedAt: start)))
        try await store.finishRun(run, status: .failed, at: start.addingTimeInterval(2))

        let jobs = try await store.jobs(run: run)
        #expect(jobs.map(\.status) == [.succeeded, .failed, .pending])
        #expect(jobs[0].attempts == 2)
        #expect(jobs[0].items == ["latest", "1.0"])
        #expect(jobs[0].durationMs == 1500)
        #expect(jobs[0].startedAt == "2023-11-14T22:13:20.000Z")
        let attempts = try await store.attempts(job: ids[0])
        #expect(attempts.map(\.number) == [1, 2])
        #expect(attempts[0].httpStatus == 503 && attempts[0].waitMs == 200 && attempts[0].errorClass == "server")
        #expect(attempts[0].startedAt == start)
        #expect(try await store.itemResults(job: ids[0]).map(\.action) == ["pushed", "kept"])

        let summary = try #require(try await store.summary(run: run, details: true))
        #expect(summary.jobsTotal == 3 && summary.jobsSucceeded == 1 && summary.jobsFailed == 1 && summary.jobsPending == 1)
        #expect(summary.attemptsTotal == 2 && summary.attemptsFailed == 1)
        #expect(summary.tagsPushed == 1 && summary.tagsKept == 1)
        #expect(summary.status == .failed)
        #expect(summary.finishedAt == "2023-11-14T22:13:22.000Z")

        #expect(try await store.cancelUnfinishedJobs(run: run, at: start) == 1)
        #expect(try await store.jobs(run: run).map(\.status) == [.succeeded, .failed, .cancelled])
        #expect(try await store.knownHolder(registry: "r", digest: "sha256:aa") == "org/a")
        #expect(try await store.knownHolder(registry: "other", digest: "sha256:aa") == nil)
    }

    @Test func summaryJSONKeepsItsContractKeys() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try SQLiteAuditStore(path: temporary.path)
        let run = try await store.beginRun(newRun())
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(try #require(try await store.summary(run: run, details: true))))
        let keys = Set((json as? [String: Any] ?? [:]).keys)
        #expect(keys.isSuperset(of: ["run_id", "status", "jobs_total", "jobs_succeeded", "jobs_skipped", "jobs_failed",
                                     "attempts_total", "started_at", "finished_at"]))
    }

    @Test func diedRunsAreMarkedAndResumptionsRecorded() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try SQLiteAuditStore(path: temporary.path)
        let dead = try await store.beginRun(newRun(pid: 111))
        let alive = try await store.beginRun(newRun(pid: 222))
        #expect(try await store.markDiedRuns(host: "host-a") { $0 == 222 } == [dead])
        #expect(try await store.markDiedRuns(host: "other-host") { _ in false } == [])
        #expect(try await store.run(dead)?.status == .died)
        #expect(try await store.run(alive)?.status == .running)
        try await store.reopenRun(dead, commandLine: "stevedore resume", pid: 333, at: Date())
        #expect(try await store.run(dead)?.status == .running)
        #expect(try await store.run(dead)?.pid == 333)
        #expect(try await store.resumptions(run: dead) == 1)
        #expect(try await store.latestRun(RunSelector(statuses: [.running]))?.id == alive)
    }

    @Test func concurrentWritersAllLand() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try SQLiteAuditStore(path: temporary.path)
        let run = try await store.beginRun(newRun())
        let ids = try await store.insertJobs(run: run, (1...8).map {
            NewJob(seq: $0, service: "s\($0)", registry: "r", repository: "org/s\($0)", items: ["latest"])
        })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in ids {
                group.addTask {
                    for number in 1...200 {
                        try await store.recordAttempt(AttemptRecord(runID: run, jobID: id, number: number, startedAt: Date(), durationMs: 1,
                                                              outcome: .failed, errorClass: "server"))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await store.summary(run: run, details: true)?.attemptsTotal == 1600)
        #expect(try await store.jobs(run: run).allSatisfy { $0.attempts == 200 })
    }

    @Test func timestampsRoundTripAndSortAsText() {
        for seconds in [0.0, 1_700_000_000.123, 951_782_400.5, 4_102_444_799.999] {
            let date = Date(timeIntervalSince1970: seconds)
            let text = Timestamp.string(date)
            #expect(text.count == 24)
            #expect(abs(Timestamp.date(text)!.timeIntervalSince(date)) < 0.001)
        }
        #expect(Timestamp.string(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp.string(Date(timeIntervalSince1970: 1)) < Timestamp.string(Date(timeIntervalSince1970: 10)))
    }

    @Test func defaultPathFollowsTheEnvironment() {
        #expect(SQLiteAuditStore.defaultPath(environment: ["STEVEDORE_DB": "/x/a.db", "HOME": "/h"]) == "/x/a.db")
        #expect(SQLiteAuditStore.defaultPath(environment: ["XDG_STATE_HOME": "/s", "HOME": "/h"]) == "/s/stevedore/audit.db")
        #expect(SQLiteAuditStore.defaultPath(environment: ["HOME": "/h"]) == "/h/.local/state/stevedore/audit.db")
    }
}
