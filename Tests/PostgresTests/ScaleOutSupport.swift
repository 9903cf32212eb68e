import Foundation
import Testing
import TestSupport

/// A scale-out scene: a PostgreSQL database, a docker-registry behind the fault proxy, a services file, and the
/// `stevedore` processes that share the run.
struct ScaleOutScene {
    let database: PostgresDatabase
    let registry: RegistryFixture
    let proxy: FaultProxy
    let workspace: TempDirectory
    let file: String

    static func start(services count: Int, namespace: String = "fleet", proxy configuration: FaultProxy.Configuration)
        async throws -> ScaleOutScene {
        let database = try await PostgresDatabase.start()
        let registry = try await RegistryFixture.start(.anonymous)
        let proxy = try await FaultProxy.start(upstream: registry.address, configuration)
        let workspace = try TempDirectory.create(prefix: "scale-out")
        let services = (1...count).map { String(format: "  - svc%04d\n", $0) }.joined()
        let file = try workspace.write("services.yaml", "namespace: \(namespace)\ntags: [\"latest\"]\nservices:\n\(services)")
        return ScaleOutScene(database: database, registry: registry, proxy: proxy, workspace: workspace, file: file)
    }

    var url: String { database.url }

    /// `stevedore provision` of the file through the proxy, recorded in the database, not waited for.
    func startRun(_ extra: [String] = []) throws -> ChildProcess {
        try spawnStevedore(["provision", file, "--registry", proxy.address, "--db", url, "--quiet"] + extra)
    }

    /// A `stevedore worker` on the database, not waited for.
    func startWorker(_ extra: [String] = []) throws -> ChildProcess {
        try spawnStevedore(["worker", "--db", url, "--quiet"] + extra)
    }

    /// Waits until the run's jobs are in the queue (the canary is done), so workers find it.
    func waitForQueue(atLeast count: Int = 1, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            // The table comes with the schema, which the run's first write creates.
            if let queued = Int((try? await psql("SELECT count(*) FROM job_claims")) ?? ""), queued >= count { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSupportError("the run queued no job within \(timeout)")
    }

    func psql(_ sql: String) async throws -> String {
        try await database.server.psql(sql, database: database.name)
    }

    /// The registry's own record of manifest PUTs that stored a tag, by path.
    func manifestPuts() -> [String: Int] {
        var puts: [String: Int] = [:]
        for entry in registry.accessLog() where entry.method == "PUT" && entry.path.contains("/manifests/") && entry.status == 201 {
            puts[entry.pathWithoutQuery, default: 0] += 1
        }
        return puts
    }

    func stop() async {
        await proxy.stop()
        await registry.stop()
        await database.server.stop()
        workspace.remove()
    }
}

/// What a `stevedore worker` said in its last line: `worker HOST:PID:NONCE: N jobs finished (F failed); runs ...`.
struct WorkerLine {
    let runner: String
    let finished: Int
    let failed: Int

    init?(_ stdout: String) {
        guard let line = stdout.split(separator: "\n").last(where: { $0.hasPrefix("worker ") }),
              let match = line.firstMatch(of: /^worker (\S+): (\d+) jobs finished \((\d+) failed\)/),
              let finished = Int(match.2), let failed = Int(match.3) else { return nil }
        runner = String(match.1)
        self.finished = finished
        self.failed = failed
    }

    /// The process id in the runner's name.
    var pid: String { runner.split(separator: ":").dropFirst().first.map(String.init) ?? "" }
}

/// The most requests in any window of `width` among `times`.
func busiestWindow(_ times: [ContinuousClock.Instant], width: Duration) -> Int {
    let sorted = times.sorted()
    var most = 0, start = 0
    for end in sorted.indices {
        while sorted[end] - sorted[start] >= width { start += 1 }
        most = max(most, end - start + 1)
    }
    return most
}
