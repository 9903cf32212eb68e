import AuditStore
import Foundation
import PostgresStore
import SQLiteStore
import Testing
import TestSupport

/// Both stores, as the tests use them.
typealias AuditLog = RunLog & AuditReader & AuditMaintenance

/// A deterministic log: two runs on two registries, successes, a retry with blobs and a manifest, a failure, a
/// skip, a cancelled job, a pause, a resumption. Every timestamp is fixed, so two stores given it hold the same log.
enum Workload {
    static let base = Date(timeIntervalSince1970: 1_790_000_000)

    static func at(_ seconds: Double) -> Date { base.addingTimeInterval(seconds) }

    /// Writes the workload; returns the run ids.
    @discardableResult
    static func write(to log: some RunLog) async throws -> [RunID] {
        let first = try await log.beginRun(NewRun(command: "provision", commandLine: "stevedore provision s.yaml",
                                                  toolVersion: "test", host: "host-a", user: "ci", inputFile: "s.yaml",
                                                  inputSHA256: "abc", registry: "r.example", namespace: "org",
                                                  options: #"{"concurrency":4}"#, startedAt: at(0), pid: 4242))
        let jobs = try await log.insertJobs(run: first, [
            NewJob(seq: 0, service: "api", registry: "r.example", repository: "org/api", items: ["latest", "1.0.0"],
                   source: "placeholder"),
            NewJob(seq: 1, service: "web", registry: "r.example", repository: "org/web", items: ["latest", "1.0.0"]),
            NewJob(seq: 2, service: "db", registry: "r.example", repository: "org/db", items: ["latest"]),
            NewJob(seq: 3, service: "cache", registry: "r.example", repository: "org/team/cache", items: ["Latest"]),
            NewJob(seq: 4, kind: .mavenArtifact, service: "com.acme:lib:1.0", registry: "maven.example",
                   repository: "releases", target: "https://maven.example/releases", items: ["lib-1.0.jar"]),
        ])
        var failed = AttemptRecord(runID: first, jobID: jobs[0], number: 1, startedAt: at(1), durationMs: 120,
                                   outcome: .failed, httpStatus: 503, errorCode: "UNAVAILABLE", errorClass: "server_error",
                                   message: "503 from registry", requests: 3, bytesSent: 1024, waitMs: 500, waitReason: "backoff")
        failed.blobs = [BlobActionRecord(digest: "sha256:b1", size: 4096, mediaType: "application/octet-stream",
                                         action: "uploaded", bytesSent: 4096, durationMs: 30, at: at(1.1))]
        try await log.recordAttempt(failed)
        try await log.recordPause(PauseRecord(runID: first, registry: "r.example", at: at(1.2), durationMs: 750,
                                              rateAfter: 2.5, reason: "429 from registry"))
        let ok = AttemptRecord(runID: first, jobID: jobs[0], number: 2, startedAt: at(2), durationMs: 80,
                               outcome: .succeeded, requests: 4, bytesSent: 2048)
        try await log.finishJob(JobFinish(runID: first, jobID: jobs[0],
            completion: JobCompletion(status: .succeeded, digest: "sha256:d1", errorClass: nil, errorMessage: nil,
                                      finishedAt: at(2.25)),
            lastAttempt: ok,
            items: [ItemResult(item: "latest", action: "pushed", digestAfter: "sha256:d1", at: at(2.2)),
                    ItemResult(item: "1.0.0", action: "pushed", digestAfter: "sha256:d1", at: at(2.2))],
            manifests: [ManifestRecord(digest: "sha256:d1", mediaType: "application/vnd.oci.image.manifest.v1+json",
                                       platform: "linux/amd64", tags: ["latest", "1.0.0"], size: 512, at: at(2.2))]))
        log.finishJobDeferred(JobFinish(runID: first, jobID: jobs[1],
            completion: JobCompletion(status: .skipped, digest: "sha256:d1", errorClass: nil, errorMessage: nil,
                                      finishedAt: at(3)),
            lastAttempt: AttemptRecord(runID: first, jobID: jobs[1], number: 1, startedAt: at(2.5), durationMs: 10,
                                       outcome: .succeeded, requests: 2),
            items: [ItemResult(item: "latest", action: "skipped", digestBefore: "sha256:d1", digestAfter: "sha256:d1", at: at(3)),
                    ItemResult(item: "1.0.0", action: "skipped", digestBefore: "sha256:d1", digestAfter: "sha256:d1", at: at(3))]))
        log.finishJobDeferred(JobFinish(runID: first, jobID: jobs[2],
            completion: JobCompletion(status: .failed, digest: nil, errorClass: "denied", errorMessage: "denied: no push",
                                      finishedAt: at(3.5)),
            lastAttempt: AttemptRecord(runID: first, jobID: jobs[2], number: 1, startedAt: at(3.1), durationMs: 15,
                                       outcome: .failed, httpStatus: 403, errorCode: "DENIED", errorClass: "denied",
                                       message: "denied: no push", requests: 1)))
        log.finishJobDeferred(JobFinish(runID: first, jobID: jobs[4],
            completion: JobCompletion(status: .succeeded, digest: nil, errorClass: nil, errorMessage: nil, finishedAt: at(3.6)),
            lastAttempt: AttemptRecord(runID: first, jobID: jobs[4], number: 1, startedAt: at(3.2), durationMs: 40,
                                       outcome: .succeeded, requests: 2, bytesSent: 900),
            items: [ItemResult(item: "lib-1.0.jar", action: "uploaded", digestAfter: "sha1:f00", size: 900,
                               detail: #"{"sha1":"f00"}"#, at: at(3.6))]))
        if let error = await log.flush() { throw error }
        _ = try await log.cancelUnfinishedJobs(run: first, at: at(4))
        try await log.finishRun(first, status: .failed, at: at(4))
        try await log.reopenRun(first, commandLine: "stevedore resume 1", pid: 4343, at: at(5))
        try await log.finishRun(first, status: .failed, at: at(6))

        let second = try await log.beginRun(NewRun(command: "retry", commandLine: "stevedore retry 1", toolVersion: "test",
                                                   host: "host-a", user: "ci", registry: "r.example", namespace: "org",
                                                   parentRunID: first, startedAt: at(100), pid: 4444))
        let retried = try await log.insertJobs(run: second, [
            NewJob(seq: 0, service: "db", registry: "r.example", repository: "org/db", items: ["latest"]),
        ])
        try await log.finishJob(JobFinish(runID: second, jobID: retried[0],
            completion: JobCompletion(status: .succeeded, digest: "sha256:d2", errorClass: nil, errorMessage: nil,
                                      finishedAt: at(101)),
            lastAttempt: AttemptRecord(runID: second, jobID: retried[0], number: 1, startedAt: at(100.5), durationMs: 60,
                                       outcome: .succeeded, requests: 3, bytesSent: 10),
            items: [ItemResult(item: "latest", action: "pushed", digestAfter: "sha256:d2", at: at(101))]))
        try await log.finishRun(second, status: .succeeded, at: at(102))
        return [first, second]
    }

    /// Every report of the log, as comparable text. Left out: the audit timings, which measure the process, and so
    /// the run's ledger head (the run row that holds them is hashed).
    static func reports(_ log: some AuditReader) async throws -> [String] {
        var out: [String] = []
        func add(_ value: some Encodable) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            out.append(String(decoding: try encoder.encode(value), as: UTF8.self))
        }
        for id in [Int64(1), 2] {
            var summary = try await log.summary(run: id, details: true)
            summary?.auditWriteMs = nil
            summary?.auditCPUMs = nil
            summary?.ledgerRunHead = nil
            try add(summary)
            try add(try await log.jobs(run: id))
            try add(try await log.limiterPauses(run: id))
            out.append(String(try await log.resumptions(run: id)))
        }
        try add(try await log.runList(ReportFilter()))
        try add(try await log.runList(ReportFilter(status: "failed", limit: 1)))
        try add(try await log.failures(ReportFilter()))
        try add(try await log.serviceHistory("db", ReportFilter()))
        try add(try await log.serviceHistory("db", ReportFilter(limit: 1)))
        try add(try await log.state(ReportFilter()))
        try add(try await log.state(ReportFilter(namespace: "org")))
        try add(try await log.state(ReportFilter(since: Timestamp.string(at(50)))))
        try add(try await log.attemptList(ReportFilter()))
        try add(try await log.attemptList(ReportFilter(errorClass: "denied", limit: 2)))
        try add(try await log.release("1.0.0", ReportFilter()))
        try add(try await log.release("latest", ReportFilter(registry: "r.example")))
        return out
    }
}

/// A server and a fresh database on it for one test.
struct PostgresDatabase {
    let server: PostgresFixture
    let name: String
    var url: String { server.url(name) }

    static func start() async throws -> PostgresDatabase {
        let server = try await PostgresFixture.start()
        return PostgresDatabase(server: server, name: try await server.createDatabase())
    }

    func open(readOnly: Bool = false) async throws -> PostgresAuditStore {
        try await PostgresAuditStore.open(url: url, readOnly: readOnly, environment: [:])
    }
}

/// The same log written to SQLite and to PostgreSQL reads back as the same report rows.
@Suite(.serialized, .enabled(if: PostgresFixture.isInstalled, "needs Debian's postgresql (make deps)"))
struct ParityTests {
    @Test func sameWorkloadGivesEqualReportRows() async throws {
        let directory = try TempDirectory.create(prefix: "parity")
        defer { directory.remove() }
        let sqlite = try SQLiteAuditStore(path: directory.file("audit.db"))
        try await Workload.write(to: sqlite)
        let database = try await PostgresDatabase.start()
        let postgres = try await database.open()
        try await Workload.write(to: postgres)

        let expected = try await Workload.reports(sqlite)
        let actual = try await Workload.reports(postgres)
        #expect(expected.count == actual.count)
        for (index, (left, right)) in zip(expected, actual).enumerated() {
            #expect(left == right, "report \(index) differs")
        }
        // The reports are not empty: the comparison compared something.
        #expect(expected.joined().contains(#""service":"web""#))

        // Both ledgers verify, with the same number of entries and rows.
        let sqliteLedger = try await sqlite.verifyLedger(expectHead: nil)
        let postgresLedger = try await postgres.verifyLedger(expectHead: nil)
        #expect(sqliteLedger.ok && postgresLedger.ok)
        #expect(sqliteLedger.entries == postgresLedger.entries)
        #expect(sqliteLedger.rowsChecked == postgresLedger.rowsChecked)
        await sqlite.close()
        await postgres.close()
        await database.server.stop()
    }
}
