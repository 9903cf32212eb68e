import Foundation
import Testing
import TestSupport

/// The `stevedore` binary with `--db postgres://...`: a real provision against a docker-registry, its reports and
/// its ledger, and the one-line errors (exit 3) for a wrong password, an unreachable server and a newer schema.
@Suite(.serialized, .enabled(if: PostgresFixture.isInstalled, "needs Debian's postgresql (make deps)"))
struct CLIPostgresTests {
    @Test func provisionReportAndVerifyOnPostgres() async throws {
        let database = try await PostgresDatabase.start()
        let registry = try await RegistryFixture.start(.anonymous)
        let workspace = try TempDirectory.create(prefix: "cli-pg")
        defer { workspace.remove() }
        let file = try workspace.write("services.yaml", "namespace: team\ntags: [\"latest\", \"1.0.0\"]\nservices:\n  - api\n  - web\n")
        // The password comes from PGPASSWORD; the URL carries none.
        let url = database.server.url(database.name, withPassword: false)
        let environment = ["PGPASSWORD": database.server.password]

        let provision = try await runStevedore(["provision", file, "--registry", registry.address, "--db", url],
                                               environment: environment)
        #expect(provision.exitCode == 0, "\(provision)")
        #expect(provision.stdout.contains("run 1 succeeded: 2 jobs (2 succeeded, 0 skipped, 0 failed), 4 tags pushed"))
        let pushed = try await database.server.psql("SELECT count(*) FROM item_results WHERE action = 'pushed'",
                                                    database: database.name)
        #expect(pushed == "4")

        // STEVEDORE_DB picks the server too; a rerun skips everything.
        let rerun = try await runStevedore(["provision", file, "--registry", registry.address],
                                           environment: environment.merging(["STEVEDORE_DB": url]) { $1 })
        #expect(rerun.exitCode == 0, "\(rerun)")
        #expect(rerun.stdout.contains("2 skipped"))

        let runs = try await runStevedore(["report", "runs", "--db", url, "--format", "json"], environment: environment)
        #expect(runs.exitCode == 0, "\(runs)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]])
        #expect(rows.map { $0["run_id"] as? Int } == [2, 1])
        #expect(rows.map { $0["jobs_skipped"] as? Int } == [2, 0])

        let state = try await runStevedore(["report", "state", "--db", url, "--format", "csv"], environment: environment)
        #expect(state.exitCode == 0, "\(state)")
        #expect(state.stdout.contains("team/api"))

        let verify = try await runStevedore(["audit", "verify", "--db", url], environment: environment)
        #expect(verify.exitCode == 0, "\(verify)")
        #expect(verify.stdout.hasPrefix("ok: "))
        let head = try await runStevedore(["audit", "head", "--db", url], environment: environment)
        #expect(head.exitCode == 0)
        #expect(verify.stdout.contains(head.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))

        // A row changed behind stevedore's back fails verification (exit 1).
        try await database.server.psql("UPDATE jobs SET digest = 'sha256:forged' WHERE id = 1", database: database.name)
        let tampered = try await runStevedore(["audit", "verify", "--db", url], environment: environment)
        #expect(tampered.exitCode == 1, "\(tampered)")
        #expect(tampered.stderr.contains("jobs row 1 was altered"))
        await registry.stop()
        await database.server.stop()
    }

    @Test func twoProcessesProvisioningAtOnceKeepOneVerifiableChain() async throws {
        let database = try await PostgresDatabase.start()
        let registry = try await RegistryFixture.start(.anonymous)
        let workspace = try TempDirectory.create(prefix: "cli-pg")
        defer { workspace.remove() }
        // The first database command migrates; then two processes write at once, one with the password in its URL.
        let upgrade = try await runStevedore(["audit", "upgrade", "--db", database.url], environment: [:])
        #expect(upgrade.exitCode == 0, "\(upgrade)")
        var children: [ChildProcess] = []
        for team in ["red", "blue"] {
            let services = (1...6).map { "  - svc\($0)\n" }.joined()
            let file = try workspace.write("\(team).yaml", "namespace: \(team)\ntags: [\"latest\"]\nservices:\n\(services)")
            let url = team == "red" ? database.url : database.server.url(database.name, withPassword: false)
            children.append(try spawnStevedore(["provision", file, "--registry", registry.address, "--db", url,
                                                "--concurrency", "4"],
                                               environment: ["PGPASSWORD": database.server.password]))
        }
        for child in children {
            let result = try await child.wait(timeout: .seconds(120))
            #expect(result.exitCode == 0, "\(result)")
        }
        let verify = try await runStevedore(["audit", "verify", "--db", database.url], environment: [:])
        #expect(verify.exitCode == 0, "\(verify)")
        let jobs = try await database.server.psql("SELECT count(*) FROM jobs WHERE status = 'succeeded'", database: database.name)
        #expect(jobs == "12")
        let leaked = try await database.server.psql(
            "SELECT count(*) FROM runs WHERE command_line LIKE '%\(database.server.password)%'", database: database.name)
        #expect(leaked == "0")
        let redacted = try await database.server.psql("SELECT count(*) FROM runs WHERE command_line LIKE '%:***@%'",
                                                      database: database.name)
        #expect(redacted == "1")
        await registry.stop()
        await database.server.stop()
    }

    @Test func connectionAndSchemaErrorsAreOneLineWithExitThree() async throws {
        let database = try await PostgresDatabase.start()
        let secret = "not-the-password-\(UUID().uuidString)"
        let wrong = try await runStevedore(["report", "runs", "--db", database.server.url(database.name, password: secret)],
                                           environment: [:])
        #expect(wrong.exitCode == 3, "\(wrong)")
        #expect(wrong.stderr.contains("refused the credentials"))
        #expect(wrong.stderr.contains("PGPASSWORD or ~/.pgpass"))
        #expect(!wrong.stderr.contains(secret))
        #expect(wrong.stderr.split(separator: "\n").count == 1)

        let port = try LoopbackPort.free()
        let unreachable = try await runStevedore(
            ["report", "runs", "--db", "postgres://stevedore:\(secret)@127.0.0.1:\(port)/x?sslmode=disable"], environment: [:])
        #expect(unreachable.exitCode == 3, "\(unreachable)")
        #expect(unreachable.stderr.contains("cannot reach the server (connection refused)"))
        #expect(!unreachable.stderr.contains(secret))
        #expect(unreachable.stderr.split(separator: "\n").count == 1)

        // A password file in libpq's format is read when neither the URL nor PGPASSWORD has one.
        let home = try TempDirectory.create(prefix: "pgpass")
        defer { home.remove() }
        let passfile = try home.write(".pgpass", "# comment\n127.0.0.1:\(database.server.port):*:stevedore:\(database.server.password)\n")
        chmod(passfile, 0o600)
        let upgrade = try await runStevedore(["audit", "upgrade", "--db", database.server.url(database.name, withPassword: false)],
                                             environment: ["HOME": home.path])
        #expect(upgrade.exitCode == 0, "\(upgrade)")
        #expect(upgrade.stdout.contains("is at schema 7 (scale_out)"))
        #expect(!upgrade.stdout.contains(database.server.password))

        try await database.server.psql("INSERT INTO schema_migrations VALUES (99, 'future', 'x', 'now')", database: database.name)
        let newer = try await runStevedore(["audit", "verify", "--db", database.url], environment: [:])
        #expect(newer.exitCode == 3, "\(newer)")
        #expect(newer.stderr.contains("was written by a newer stevedore (it has schema version 99"))
        #expect(!newer.stderr.contains(database.server.password))
        #expect(newer.stderr.split(separator: "\n").count == 1)
        await database.server.stop()
    }
}
