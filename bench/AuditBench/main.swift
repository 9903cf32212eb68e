import AuditStore
import Foundation
import PostgresStore
import SQLiteStore

// make bench: how fast the audit store records, alone (no network), with the same transactions a provision
// makes per job that needs a retry: pending insert (batched), the failed attempt, then the succeeded attempt
// with the job's finish and its two tag results; eight writers at once, like eight provision workers.
//
//   BenchAudit DB JOBS   (DB: a file, or a postgres:// url of an empty database)
//                        → one line: jobs writes seconds writes_per_s attempts_per_s us_per_write ledger_entries

let placeholder = "sha256:ad1beab491c0153acd1e77807acfe4b25c32c74254a7fc02e3f71b49368230cb"

/// The writes of one job.
func record(_ store: some RunLog, _ runID: RunID, _ id: JobID) async throws {
    let now = Date()
    try await store.recordAttempt(AttemptRecord(runID: runID, jobID: id, number: 1, startedAt: now, durationMs: 12,
                                                outcome: .failed, httpStatus: 503, errorCode: "UNAVAILABLE",
                                                errorClass: "server", message: "HTTP 503 from the registry", requests: 2,
                                                bytesSent: 0, waitMs: 180, waitReason: "backoff"))
    let items = ["latest", "0.1.0"].map { ItemResult(item: $0, action: "pushed", digestAfter: placeholder, at: now) }
    try await store.finishJob(JobFinish(
        runID: runID, jobID: id,
        completion: JobCompletion(status: .succeeded, digest: placeholder, errorClass: nil, errorMessage: nil,
                                  finishedAt: Date()),
        lastAttempt: AttemptRecord(runID: runID, jobID: id, number: 2, startedAt: now, durationMs: 9, outcome: .succeeded,
                                   requests: 3, bytesSent: 1200),
        items: items))
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let jobs = Int(arguments[2]), jobs > 0 else {
    FileHandle.standardError.write(Data("usage: BenchAudit DB JOBS\n".utf8))
    exit(2)
}
/// The workload against one store; prints the line.
func bench(_ store: some RunLog & AuditMaintenance, jobs: Int) async throws {
    let start = Date()
    let runID = try await store.beginRun(NewRun(command: "provision", commandLine: "stevedore provision bench.yaml",
                                                toolVersion: "bench", host: "bench", user: "bench", inputFile: "bench.yaml",
                                                registry: "127.0.0.1:5000", namespace: "bench", startedAt: start, pid: nil))
    let ids = try await store.insertJobs(run: runID, (1...jobs).map {
        NewJob(seq: $0, service: "svc-\($0)", registry: "127.0.0.1:5000", repository: "bench/svc-\($0)",
               items: ["latest", "0.1.0"])
    })
    let writers = 8
    try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in 0..<writers {
            group.addTask {
                for index in stride(from: writer, to: ids.count, by: writers) { try await record(store, runID, ids[index]) }
            }
        }
        try await group.waitForAll()
    }
    try await store.finishRun(runID, status: .succeeded, at: Date())
    let seconds = Date().timeIntervalSince(start)
    let writes = 2 + 1 + jobs * 2
    let verification = try await store.verifyLedger(expectHead: nil)
    guard verification.ok else {
        FileHandle.standardError.write(Data("BenchAudit: the ledger does not verify: \(verification.problems.first!.message)\n".utf8))
        exit(1)
    }
    print(String(format: "%d %d %.3f %.0f %.0f %.1f %d", jobs, writes, seconds, Double(writes) / seconds,
                 Double(2 * jobs) / seconds, seconds * 1_000_000 / Double(writes), verification.entries))
}

do {
    if PostgresLocation.isPostgresURL(arguments[1]) {
        let store = try await PostgresAuditStore.open(url: arguments[1])
        try await bench(store, jobs: jobs)
        await store.close()
    } else {
        let store = try SQLiteAuditStore(path: arguments[1])
        try await bench(store, jobs: jobs)
        await store.close()
    }
} catch {
    FileHandle.standardError.write(Data("BenchAudit: \(error)\n".utf8))
    exit(1)
}
