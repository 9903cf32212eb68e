import Foundation
import Testing
import TestSupport

/// Provisioning against a real docker-registry that requires HTTP Basic credentials (htpasswd).
@Suite(.serialized) struct ProvisionHtpasswdTests {
    static let password = "s3cret-Pa55word-for-tests"

    @Test func pushesWithPasswordStdinAndWithEnvironmentCredentials() async throws {
        let registry = try await RegistryFixture.start(.htpasswd(users: ["ci": Self.password]))
        let workspace = try Workspace()
        defer { workspace.remove() }
        let file = try workspace.servicesFile(namespace: "stage0", services: Array(stage0Services.prefix(5)), tags: ["latest", "0.1.0"])

        let viaStdin = try await runStevedore(
            ["provision", file, "--registry", registry.address, "--db", workspace.db, "--username", "ci", "--password-stdin"],
            environment: [:], stdin: Array("\(Self.password)\n".utf8))
        #expect(viaStdin.exitCode == 0, "stderr: \(viaStdin.stderr)")
        let image = try await Skopeo.inspect(reference: "\(registry.address)/stage0/stage0_mongo_api:0.1.0",
                                             credentials: ("ci", Self.password))
        #expect(image.digest == placeholderDigest)

        let viaEnv = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db],
                                            environment: ["USER_NAME": "ci", "CR_PAT": Self.password])
        #expect(viaEnv.exitCode == 0, "stderr: \(viaEnv.stderr)")
        #expect(viaEnv.stdout.contains("0 failed"))
        let summary = try await summaryJSON(db: workspace.db)
        #expect(summary["jobs_skipped"] as? Int == 5)

        // The secret is nowhere in what was recorded or printed.
        let dump = try await ChildProcess.run(executable: "/usr/bin/sqlite3", arguments: [workspace.db, ".dump"], environment: [:])
        #expect(!dump.stdout.contains(Self.password))
        #expect(!(viaStdin.stdout + viaStdin.stderr + viaEnv.stdout + viaEnv.stderr).contains(Self.password))
        await registry.stop()
    }

    @Test func wrongOrMissingCredentialsStopBeforeAnyJobWithExit4() async throws {
        let registry = try await RegistryFixture.start(.htpasswd(users: ["ci": Self.password]))
        let workspace = try Workspace()
        defer { workspace.remove() }
        let file = try workspace.servicesFile(namespace: "stage0", services: ["a", "b", "c"], tags: ["latest"])

        let wrong = try await runStevedore(
            ["provision", file, "--registry", registry.address, "--db", workspace.db, "--username", "ci", "--password-stdin"],
            environment: [:], stdin: Array("not-the-password".utf8))
        #expect(wrong.exitCode == 4)
        #expect(wrong.stderr.contains("refused the credentials"))
        #expect(!wrong.stderr.contains("not-the-password"))
        #expect(wrong.stderr.split(separator: "\n").count == 1)

        let anonymous = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db],
                                               environment: [:])
        #expect(anonymous.exitCode == 4)

        // Both runs are in the audit log, their jobs recorded as failed and never attempted.
        let rows = try await sqlite(workspace.db, "SELECT status, count(*) FROM runs GROUP BY status")
        #expect(rows == ["failed|2"])
        let jobs = try await sqlite(workspace.db, "SELECT status, error_class, attempts FROM jobs GROUP BY status, error_class, attempts")
        #expect(jobs == ["failed|auth_failed|0"])
        #expect(count(registry.accessLog(), "PUT", "/manifests/") == 0)
        await registry.stop()
    }
}

/// Bad input gets one clear error, a documented exit code, and nothing is sent or lost.
@Suite struct BadInputTests {
    @Test func malformedServicesFileExits2AndSendsNothing() async throws {
        let registry = try await RegistryFixture.start(.anonymous)
        let workspace = try Workspace()
        defer { workspace.remove() }
        let before = registry.accessLog().count
        let file = try workspace.write("bad.yaml", "namespace: org\nservices:\n  - Good_Name\n  - ok\n  - ok\n")
        let result = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db],
                                            environment: [:])
        #expect(result.exitCode == 2)
        #expect(result.stderr.contains("bad.yaml:3: invalid service 'Good_Name'"))
        #expect(result.stderr.contains("bad.yaml:5: duplicate service 'ok' (first listed on line 4)"))
        #expect(registry.accessLog().count == before)
        #expect(!FileManager.default.fileExists(atPath: workspace.db))
        await registry.stop()
    }

    @Test func unreachableRegistryExits4WithTheRemedy() async throws {
        let workspace = try Workspace()
        defer { workspace.remove() }
        let file = try workspace.servicesFile(namespace: "org", services: ["a"], tags: ["latest"])
        let port = try LoopbackPort.free()
        let result = try await runStevedore(["provision", file, "--registry", "127.0.0.1:\(port)", "--db", workspace.db,
                                             "--timeout", "5"], environment: [:])
        #expect(result.exitCode == 4)
        #expect(result.stderr.hasPrefix("error: cannot reach registry 127.0.0.1:\(port)"))
        #expect(result.stderr.contains("check the address and that the registry is running"))
    }

    @Test func corruptDatabaseExits3AndIsLeftAlone() async throws {
        let workspace = try Workspace()
        defer { workspace.remove() }
        let file = try workspace.servicesFile(namespace: "org", services: ["a"], tags: ["latest"])
        let garbage = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: workspace.db))
        let result = try await runStevedore(["provision", file, "--registry", "127.0.0.1:1", "--db", workspace.db],
                                            environment: [:])
        #expect(result.exitCode == 3)
        #expect(result.stderr.contains("not a sqlite database or is corrupt"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: workspace.db)) == garbage)
        let report = try await runStevedore(["report", "summary", "--db", workspace.db], environment: [:])
        #expect(report.exitCode == 3)
    }

    @Test func usageErrorsExit2() async throws {
        let unknownFlag = try await runStevedore(["provision", "x.yaml", "--no-such-flag"], environment: [:])
        #expect(unknownFlag.exitCode == 2)
        let badConcurrency = try await runStevedore(["provision", "x.yaml", "--concurrency", "0"], environment: [:])
        #expect(badConcurrency.exitCode == 2)
        let missingFile = try await runStevedore(["provision", "/nonexistent.yaml", "--registry", "127.0.0.1:1"], environment: [:])
        #expect(missingFile.exitCode == 2)
        #expect(missingFile.stderr.contains("/nonexistent.yaml: cannot read the file"))
        let noRegistry = try await runStevedore(["provision", try Workspace().servicesFile(namespace: "o", services: ["a"], tags: ["x"])],
                                                environment: [:])
        #expect(noRegistry.exitCode == 2)
        #expect(noRegistry.stderr.contains("pass --registry HOST"))
        let help = try await runStevedore(["--help"], environment: [:])
        #expect(help.exitCode == 0)
        #expect(help.stdout.contains("provision"))
    }
}
