import Foundation
import Testing
import TestSupport

/// A PostgreSQL audit log written by the previous release (schema 6, `Tests/Fixtures/postgres-0006`) upgrades in
/// place: its chain keeps verifying against the head that release printed, and runs through the queue go on it.
@Suite(.serialized, .enabled(if: PostgresFixture.isInstalled, "needs Debian's postgresql (make deps)"))
struct PostgresUpgradeTests {
    static let fixture = StevedoreBinary.packageRoot + "/Tests/Fixtures/postgres-0006"

    @Test func aLogOfTheRelease02UpgradesAndKeepsVerifying() async throws {
        let database = try await PostgresDatabase.start()
        let restore = try await ChildProcess.run(
            executable: try ChildProcess.resolve("psql"),
            arguments: [database.url, "-q", "-v", "ON_ERROR_STOP=1", "-f", Self.fixture + "/old.sql"],
            environment: ChildProcess.inheritedEnvironment(), timeout: .seconds(60))
        #expect(restore.exitCode == 0, "\(restore)")
        let head = try String(contentsOfFile: Self.fixture + "/old.head", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // A reader refuses the older schema and says what to do; the upgrade applies migration 7 only.
        let refused = try await runStevedore(["report", "runs", "--db", database.url], environment: [:])
        #expect(refused.exitCode == 3, "\(refused)")
        #expect(refused.stderr.contains("stevedore audit upgrade"))
        let upgrade = try await runStevedore(["audit", "upgrade", "--db", database.url], environment: [:])
        #expect(upgrade.exitCode == 0, "\(upgrade)")
        #expect(upgrade.stdout.contains("is at schema 7 (scale_out)"))
        let verify = try await runStevedore(["audit", "verify", "--db", database.url, "--expect-head", head],
                                            environment: [:])
        #expect(verify.exitCode == 0, "\(verify)")
        let runs = try await runStevedore(["report", "runs", "--db", database.url, "--format", "json"], environment: [:])
        let rows = try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(rows.compactMap { $0["command"] as? String } == ["retry", "provision", "provision", "verify", "provision"])

        // A run through the queue on the upgraded log, with a worker on it.
        let registry = try await RegistryFixture.start(.anonymous)
        let proxy = try await FaultProxy.start(upstream: registry.address, .init(rate: 0, latency: .milliseconds(20)))
        let workspace = try TempDirectory.create(prefix: "pg-upgrade")
        defer { workspace.remove() }
        let services = (1...30).map { "  - app\($0)\n" }.joined()
        let file = try workspace.write("services.yaml", "namespace: after\ntags: [\"latest\"]\nservices:\n\(services)")
        let starter = try spawnStevedore(["provision", file, "--registry", proxy.address, "--db", database.url, "--quiet",
                                          "--concurrency", "2"])
        let worker = try spawnStevedore(["worker", "--db", database.url, "--quiet", "--concurrency", "2"])
        let run = try await starter.wait(timeout: .seconds(120))
        #expect(run.exitCode == 0, "\(run)")
        #expect(try await worker.wait(timeout: .seconds(60)).exitCode == 0)
        #expect(try await database.server.psql("SELECT count(*) FROM job_claims WHERE status = 'done'",
                                               database: database.name) == "30")
        let after = try await runStevedore(["audit", "verify", "--db", database.url, "--expect-head", head],
                                           environment: [:])
        #expect(after.exitCode == 0, "\(after)")
        await proxy.stop()
        await registry.stop()
        await database.server.stop()
    }
}
