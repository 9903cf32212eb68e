import Foundation
import TestSupport
import Timekeeping

// make bench: scale-out on PostgreSQL. N placeholder services pushed to a docker-registry behind the fault proxy,
// which adds LATENCY_MS to every request (an I/O-bound run, as against a real remote registry), side by side:
//   sqlite      one `stevedore provision`, SQLite audit log (the embedded default)
//   split       the status quo of per-process tools: the file split by hand into three, three processes, three
//               SQLite logs, three rate limits
//   postgres-1  one `stevedore provision --db postgres://` (the queue with one runner)
//   postgres-3  the same run, plus two `stevedore worker`s: three runners on one queue, one log
// each at --concurrency CONCURRENCY per process, on a fresh registry and database.
//
//   BenchScaleOut STEVEDORE WORKDIR N CONCURRENCY LATENCY_MS
//   → one line per setup: setup runners wall_s jobs_per_s queue_ms_per_job ledger_appends_per_s audit_share_pct
//     cpu_ms_per_job (every process on the machine: registry, proxy, PostgreSQL, stevedore; from /proc/stat)

let arguments = CommandLine.arguments
guard arguments.count == 6, let n = Int(arguments[3]), let concurrency = Int(arguments[4]),
      let latency = Int(arguments[5]) else {
    FileHandle.standardError.write(Data("usage: BenchScaleOut STEVEDORE WORKDIR N CONCURRENCY LATENCY_MS\n".utf8))
    exit(2)
}
let (stevedore, work) = (arguments[1], arguments[2])

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("BenchScaleOut: \(message)\n".utf8))
    exit(1)
}

func servicesFile(_ name: String, _ range: Range<Int>) throws -> String {
    let path = "\(work)/\(name).yaml"
    let services = range.map { "  - svc-\($0)\n" }.joined()
    try Data("namespace: bench\ntags: [latest]\nservices:\n\(services)".utf8).write(to: URL(fileURLWithPath: path))
    return path
}

func checked(_ child: ChildProcess, _ what: String) async throws {
    let result = try await child.wait(timeout: .seconds(1800))
    if result.exitCode != 0 { fail("\(what) exited \(result.exitCode): \(result.stderr.suffix(600))") }
}

/// A fresh registry behind the latency proxy.
func registry() async throws -> (RegistryFixture, FaultProxy) {
    let registry = try await RegistryFixture.start(.anonymous)
    let proxy = try await FaultProxy.start(upstream: registry.address, .init(rate: 0, latency: .milliseconds(latency)))
    return (registry, proxy)
}

func provision(_ file: String, _ address: String, db: String) throws -> ChildProcess {
    try ChildProcess.spawn(executable: stevedore, arguments: ["provision", file, "--registry", address, "--db", db,
                                                              "--concurrency", String(concurrency), "--quiet"],
                           environment: ChildProcess.inheritedEnvironment(), stdin: nil)
}

func report(_ setup: String, runners: Int, wall: Duration, queueMsPerJob: Double?, ledger: Int, auditMs: Int,
            cpu: Double) {
    let wallSeconds = wall.seconds
    let share = 100 * Double(auditMs) / 1000 / (wallSeconds * Double(runners))
    print(String(format: "%@ %d %.2f %.1f %@ %.0f %.2f %.2f", setup, runners, wallSeconds, Double(n) / wallSeconds,
                 queueMsPerJob.map { String(format: "%.2f", $0) } ?? "-", Double(ledger) / wallSeconds, share,
                 cpu * 1000 / Double(n)))
}

/// CPU seconds the whole machine spent outside idle and iowait so far (/proc/stat, USER_HZ ticks).
func machineCPU() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return 0 }
    let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    guard ticks.count >= 5 else { return 0 }
    return (ticks.reduce(0, +) - ticks[3] - ticks[4]) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

func sqlite(_ db: String, _ sql: String) async throws -> String {
    let result = try await ChildProcess.run(executable: "/usr/bin/sqlite3", arguments: [db, sql], environment: [:])
    return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// One SQLite process, or the file split into `parts` processes with a log each.
func local(parts: Int) async throws {
    let (registry, proxy) = try await registry()
    let size = (n + parts - 1) / parts
    let files = try (0..<parts).map { try servicesFile("split-\(parts)-\($0)", ($0 * size)..<min(n, ($0 + 1) * size)) }
    let dbs = (0..<parts).map { "\(work)/local-\(parts)-\($0)-\(UUID().uuidString).db" }
    let start = ContinuousClock.now, cpu = machineCPU()
    let children = try zip(files, dbs).map { try provision($0, proxy.address, db: $1) }
    for child in children { try await checked(child, "provision") }
    let wall = ContinuousClock.now - start, used = machineCPU() - cpu
    var ledger = 0, audit = 0
    for db in dbs {
        ledger += Int(try await sqlite(db, "SELECT count(*) FROM ledger")) ?? 0
        audit += Int(try await sqlite(db, "SELECT coalesce(sum(audit_write_ms), 0) FROM runs")) ?? 0
    }
    report(parts == 1 ? "sqlite" : "split", runners: parts, wall: wall, queueMsPerJob: nil, ledger: ledger, auditMs: audit,
           cpu: used)
    await proxy.stop()
    await registry.stop()
}

/// One run on PostgreSQL with `runners` runner processes: the starting one and `runners - 1` workers.
func shared(runners: Int, server: PostgresFixture) async throws {
    let (registry, proxy) = try await registry()
    let file = try servicesFile("all", 0..<n)
    let url = server.url(try await server.createDatabase())
    let upgrade = try await ChildProcess.run(executable: stevedore, arguments: ["audit", "upgrade", "--db", url],
                                             environment: [:])
    if upgrade.exitCode != 0 { fail("audit upgrade: \(upgrade.stderr)") }
    let start = ContinuousClock.now, cpu = machineCPU()
    let starter = try provision(file, proxy.address, db: url)
    var workers: [ChildProcess] = []
    if runners > 1 {
        // Workers join once the run's jobs are queued (after the canary).
        while (Int((try? await server.psql("SELECT count(*) FROM job_claims", database: url.databaseName)) ?? "") ?? 0) == 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
        workers = try (1..<runners).map { _ in
            try ChildProcess.spawn(executable: stevedore, arguments: ["worker", "--db", url, "--concurrency",
                                                                      String(concurrency), "--quiet"],
                                   environment: ChildProcess.inheritedEnvironment(), stdin: nil)
        }
    }
    try await checked(starter, "provision")
    let wall = ContinuousClock.now - start
    for worker in workers { try await checked(worker, "worker") }
    let used = machineCPU() - cpu
    let stats = try await server.psql("SELECT sum(claims) || ' ' || sum(queue_ms) FROM runners", database: url.databaseName)
        .split(separator: " ").compactMap { Double($0) }
    let ledger = Int(try await server.psql("SELECT count(*) FROM ledger", database: url.databaseName)) ?? 0
    let audit = Int(try await server.psql("SELECT audit_write_ms FROM runs", database: url.databaseName)) ?? 0
    let queueMs = stats.count == 2 && stats[0] > 0 ? stats[1] / stats[0] : nil
    report("postgres-\(runners)", runners: runners, wall: wall, queueMsPerJob: queueMs, ledger: ledger, auditMs: audit,
           cpu: used)
    await proxy.stop()
    await registry.stop()
}

extension String {
    /// The database name of a `postgres://.../NAME?...` URL.
    var databaseName: String {
        String(split(separator: "/").last?.split(separator: "?").first ?? "")
    }
}

// SETUPS (environment): the setups to run, default all four.
let setups = (ProcessInfo.processInfo.environment["SETUPS"] ?? "sqlite split postgres-1 postgres-3").split(separator: " ")
// A durable server (fsync on), as in production: every commit waits for the disk.
let server = try await PostgresFixture.start(durable: true)
print("setup runners wall_s jobs_per_s queue_ms_per_job ledger_appends_per_s audit_share_pct cpu_ms_per_job")
for setup in setups {
    switch setup {
    case "sqlite": try await local(parts: 1)
    case "split": try await local(parts: 3)
    case "postgres-1": try await shared(runners: 1, server: server)
    case "postgres-3": try await shared(runners: 3, server: server)
    default: fail("unknown setup \(setup)")
    }
}
await server.stop()
