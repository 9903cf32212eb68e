import Checksums
import Foundation
import Testing
import TestSupport

/// Reports read the log without writing to it; `--log-level debug` logs every request without a secret.
@Suite(.serialized) struct ReadOnlyAndLoggingTests {
    static let password = "l0gging-Secret-pw"

    func sha256(_ path: String) throws -> String {
        ContentHasher.sha256Hex(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test func reportsNeverCreateOrChangeTheDatabase() async throws {
        let workspace = try Workspace()
        defer { workspace.remove() }
        let missing = workspace.directory.appendingPathComponent("missing.db").path
        for arguments in [["report", "runs"], ["report", "summary"], ["audit", "verify"], ["audit", "head"],
                          ["report", "html", "-o", workspace.directory.appendingPathComponent("x.html").path]] {
            let result = try await runStevedore(arguments + ["--db", missing], environment: [:])
            #expect(result.exitCode == 3, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("no audit database at \(missing)"))
        }
        #expect(!FileManager.default.fileExists(atPath: missing), "nothing created")

        let registry = try await RegistryFixture.start(.anonymous)
        let file = try workspace.servicesFile(namespace: "ro", services: ["a", "b"], tags: ["latest"])
        let run = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db],
                                         environment: [:])
        #expect(run.exitCode == 0, "stderr: \(run.stderr)")
        await registry.stop()
        let before = try sha256(workspace.db)
        for arguments in [["report", "runs"], ["report", "summary", "--format", "json"], ["report", "failures"],
                          ["report", "service", "a"], ["report", "state", "--format", "csv"], ["report", "attempts"],
                          ["audit", "verify"], ["audit", "head"],
                          ["report", "html", "-o", workspace.directory.appendingPathComponent("run.html").path]] {
            let result = try await runStevedore(arguments + ["--db", workspace.db], environment: [:])
            #expect(result.exitCode == 0, "\(arguments): \(result.stderr)")
        }
        #expect(try sha256(workspace.db) == before, "reading a log writes nothing to it")
        let wal = workspace.db + "-wal"
        let walSize = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
        #expect(walSize == 0, "and nothing to its write-ahead log")
    }

    @Test func debugLoggingShowsRequestsButNoSecrets() async throws {
        let registry = try await RegistryFixture.start(.htpasswd(users: ["ci": Self.password]))
        let workspace = try Workspace()
        defer { workspace.remove() }
        let file = try workspace.servicesFile(namespace: "log", services: ["a"], tags: ["latest"])
        let run = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db,
                                          "--log-level", "debug"],
                                         environment: ["USER_NAME": "ci", "CR_PAT": Self.password])
        #expect(run.exitCode == 0, "stderr: \(run.stderr)")
        #expect(run.stderr.contains("PUT http://\(registry.address)/v2/log/a/manifests/latest 201"), "\(run.stderr)")
        #expect(run.stderr.contains("GET http://\(registry.address)/v2/ 401"))
        #expect(!run.stderr.contains(Self.password))
        #expect(!run.stderr.contains("Basic "), "no Authorization header is logged")
        #expect(!run.stderr.contains("_state="), "no upload state from queries")
        let quiet = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db],
                                           environment: ["USER_NAME": "ci", "CR_PAT": Self.password,
                                                         "STEVEDORE_LOG_LEVEL": "warning"])
        #expect(!quiet.stderr.contains("/manifests/"))
        let env = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db],
                                         environment: ["USER_NAME": "ci", "CR_PAT": Self.password,
                                                       "STEVEDORE_LOG_LEVEL": "debug"])
        #expect(env.stderr.contains("HEAD http://\(registry.address)/v2/log/a/manifests/latest 200"), "\(env.stderr)")
        await registry.stop()
    }
}
