@testable import AuditStore
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
    @Test func migrationsApplyOnceAndAreRecorded() throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try AuditStore(path: temporary.path)
        let applied = try store.appliedMigrations()
        #expect(applied.map(\.version) == EmbeddedMigrations.all.map(\.version))
        #expect(applied.first?.name == "initial")
        // Reopening applies nothing again and keeps the data.
        _ = try store.beginRun(newRun())
        let reopened = try AuditStore(path: temporary.path)
        #expect(try reopened.appliedMigrations().count == applied.count)
        #expect(try reopened.latestRunID() == 1)
    }

    @Test func embeddedMigrationsAreTheFilesByteForByte() throws {
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

    @Test func aFileThatIsNotADatabaseIsRefusedAndLeftAlone() throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        try FileManager.default.createDirectory(atPath: temporary.directory + "/nested", withIntermediateDirectories: true)
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) })
        try garbage.write(to: URL(fileURLWithPath: temporary.path))
        do {
            _ = try AuditStore(path: temporary.path)
            Issue.record("expected notADatabase")
        } catch {
            #expect(error.kind == .notADatabase)
            #expect(error.description.contains("not a sqlite database or is corrupt"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: temporary.path)) == garbage)
        #expect(!FileManager.default.fileExists(atPath: temporary.path + "-wal"))
    }

    @Test func aNewerSchemaIsRefused() throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try AuditStore(path: temporary.path)
        try store.connection.run("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (9999, 'future', 'x', 'now')")
        do {
            _ = try AuditStore(path: temporary.path)
            Issue.record("expected newerSchema")
        } catch {
            #expect(error.kind == .newerSchema)
            #expect(error.description.contains("upgrade stevedore"))
        }
    }

    @Test func anEditedMigrationIsDetected() throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try AuditStore(path: temporary.path)
        try store.connection.run("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
        #expect(throws: AuditStoreError.self) { _ = try AuditStore(path: temporary.path) }
    }

    @Test func runJobAttemptAndTagLifecycle() throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try AuditStore(path: temporary.path)
        let run = try store.beginRun(newRun())
        let ids = try store.insertJobs(run: run, [
            NewJob(seq: 1, service: "a", registry: "r", repository: "org/a", tags: ["latest", "1.0"]),
            NewJob(seq: 2, service: "b", registry: "r", repository: "org/b", tags: ["latest"]),
            NewJob(seq: 3, service: "c", registry: "r", repository: "org/c", tags: ["latest"]),
        ])
        #expect(ids.count == 3)
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        try store.markJobRunning(ids[0], at: start)
        try store.recordAttempt(AttemptRecord(jobID: ids[0], number: 1, startedAt: start, durationMs: 12, outcome: .failed,
                                              httpStatus: 503, errorCode: "UNAVAILABLE", errorClass: "server",
                                              message: "busy", requests: 3, bytesSent: 10, waitMs: 200, waitReason: "backoff"))
        try store.recordAttempt(AttemptRecord(jobID: ids[0], number: 2, startedAt: start, durationMs: 8, outcome: .succeeded,
                                              requests: 4, bytesSent: 600))
        try store.recordTagResult(TagResult(jobID: ids[0], tag: "latest", action: .pushed, digestBefore: nil,
                                            digestAfter: "sha256:aa", at: start))
        try store.recordTagResult(TagResult(jobID: ids[0], tag: "1.0", action: .kept, digestBefore: "sha256:bb",
                                            digestAfter: "sha256:bb", at: start))
        try store.finishJob(ids[0], JobCompletion(status: .succeeded, digest: "sha256:aa", errorClass: nil,
                                                   errorMessage: nil, finishedAt: start.addingTimeInterval(1.5)))
        try store.finishJob(ids[1], JobCompletion(status: .failed, digest: nil, errorClass: "denied",
                                                   errorMessage: "no", finishedAt: start))
        try store.finishRun(run, status: .failed, at: start.addingTimeInterval(2))

        let jobs = try store.jobs(run: run)
        #expect(jobs.map(\.status) == [.succeeded, .failed, .pending])
        #expect(jobs[0].attempts == 2)
        #expect(jobs[0].tags == ["latest", "1.0"])
        #expect(jobs[0].durationMs == 1500)
        #expect(jobs[0].startedAt == "2023-11-14T22:13:20.000Z")
        let attempts = try store.attempts(job: ids[0])
        #expect(attempts.map(\.number) == [1, 2])
        #expect(attempts[0].httpStatus == 503 && attempts[0].waitMs == 200 && attempts[0].errorClass == "server")
        #expect(attempts[0].startedAt == start)
        #expect(try store.tagResults(job: ids[0]).map(\.action) == [.pushed, .kept])

        let summary = try #require(try store.summary(run: run))
        #expect(summary.jobsTotal == 3 && summary.jobsSucceeded == 1 && summary.jobsFailed == 1 && summary.jobsPending == 1)
        #expect(summary.attemptsTotal == 2 && summary.attemptsFailed == 1)
        #expect(summary.tagsPushed == 1 && summary.tagsKept == 1)
        #expect(summary.status == .failed)
        #expect(summary.finishedAt == "2023-11-14T22:13:22.000Z")

        #expect(try store.cancelUnfinishedJobs(run: run, at: start) == 1)
        #expect(try store.jobs(run: run).map(\.status) == [.succeeded, .failed, .cancelled])
        #expect(try store.knownHolder(registry: "r", digest: "sha256:aa") == "org/a")
        #expect(try store.knownHolder(registry: "other", digest: "sha256:aa") == nil)
    }

    @Test func summaryJSONKeepsItsContractKeys() throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try AuditStore(path: temporary.path)
        let run = try store.beginRun(newRun())
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(try #require(try store.summary(run: run))))
        let keys = Set((json as? [String: Any] ?? [:]).keys)
        #expect(keys.isSuperset(of: ["run_id", "status", "jobs_total", "jobs_succeeded", "jobs_skipped", "jobs_failed",
                                     "attempts_total", "started_at", "finished_at"]))
    }

    @Test func diedRunsAreMarkedAndResumptionsRecorded() throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try AuditStore(path: temporary.path)
        let dead = try store.beginRun(newRun(pid: 111))
        let alive = try store.beginRun(newRun(pid: 222))
        #expect(try store.markDiedRuns(host: "host-a") { $0 == 222 } == [dead])
        #expect(try store.markDiedRuns(host: "other-host") { _ in false } == [])
        #expect(try store.run(dead)?.status == .died)
        #expect(try store.run(alive)?.status == .running)
        try store.reopenRun(dead, commandLine: "stevedore resume", pid: 333, at: Date())
        #expect(try store.run(dead)?.status == .running)
        #expect(try store.run(dead)?.pid == 333)
        #expect(try store.resumptions(run: dead) == 1)
        #expect(try store.latestRun { $0.status == .running }?.id == alive)
    }

    @Test func concurrentWritersAllLand() async throws {
        let temporary = try TemporaryDatabase()
        defer { temporary.remove() }
        let store = try AuditStore(path: temporary.path)
        let run = try store.beginRun(newRun())
        let ids = try store.insertJobs(run: run, (1...8).map {
            NewJob(seq: $0, service: "s\($0)", registry: "r", repository: "org/s\($0)", tags: ["latest"])
        })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in ids {
                group.addTask {
                    for number in 1...200 {
                        try store.recordAttempt(AttemptRecord(jobID: id, number: number, startedAt: Date(), durationMs: 1,
                                                              outcome: .failed, errorClass: "server"))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try store.summary(run: run)?.attemptsTotal == 1600)
        #expect(try store.jobs(run: run).allSatisfy { $0.attempts == 200 })
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
        #expect(AuditStore.defaultPath(environment: ["STEVEDORE_DB": "/x/a.db", "HOME": "/h"]) == "/x/a.db")
        #expect(AuditStore.defaultPath(environment: ["XDG_STATE_HOME": "/s", "HOME": "/h"]) == "/s/stevedore/audit.db")
        #expect(AuditStore.defaultPath(environment: ["HOME": "/h"]) == "/h/.local/state/stevedore/audit.db")
    }
}
