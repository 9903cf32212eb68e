import Foundation
import Testing
import TestSupport

/// `stevedore doctor` against the real fixtures: docker-registry in token and htpasswd modes (the token server
/// issuing read-write and read-only JWTs), the fault proxy sending an old `Date`, nginx as a Maven repository.
/// Every test also checks that doctor wrote nothing: no write the registry or nginx accepted, no repository created.
@Suite(.serialized) struct DoctorTests {
    /// One line of the text output for `check`, e.g. the `push` line.
    static func line(_ output: String, _ check: String) -> String? {
        output.split(separator: "\n").map(String.init).first { line in
            line.dropFirst(6).hasPrefix(check + " ")
        }
    }

    func doctor(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
                _ workspace: Workspace) async throws -> ChildResult {
        try await runStevedore(["doctor"] + arguments + ["--db", workspace.db], environment: environment,
                               stdin: stdin.map { Array($0.utf8) }, timeout: .seconds(120))
    }

    /// No request the registry answered with success changed anything, and no repository exists.
    func expectNothingWritten(_ registry: RegistryFixture) async throws {
        let writes = registry.accessLog().filter { ["PUT", "POST", "PATCH", "DELETE"].contains($0.method) }
        #expect(writes.allSatisfy { !(200..<300).contains($0.status) }, "\(writes)")
        #expect(!FileManager.default.fileExists(atPath: registry.storageDirectory + "/docker/registry/v2/repositories"))
    }

    @Test func aReadWriteTokenPassesAndAPartnerTokenIsReportedAsReadOnly() async throws {
        let tokens = try await TokenServer.start(users: ["writer": .readWrite("writer-secret-1"),
                                                         "partner": .readOnly("partner-secret-2")])
        let registry = try await RegistryFixture.start(.token(realm: tokens.realm, service: TokenServer.service,
                                                              issuer: TokenServer.issuer,
                                                              rootCertBundle: tokens.certificatePath))
        let workspace = try Workspace()
        defer { Task { await registry.stop(); await tokens.stop(); workspace.remove() } }
        let file = try workspace.servicesFile(namespace: "acme", services: ["api", "web", "worker", "billing"], tags: ["latest"])
        func run(_ user: String, _ secret: String, _ extra: [String] = []) async throws -> ChildResult {
            try await doctor([file, "--registry", registry.address] + extra,
                             environment: ["USER_NAME": user, "CR_PAT": secret], workspace)
        }

        let writer = try await run("writer", "writer-secret-1")
        #expect(writer.exitCode == 0, "\(writer.stdout)\n\(writer.stderr)")
        #expect(Self.line(writer.stdout, "credentials")?.contains("CR_PAT (user writer)") == true, "\(writer.stdout)")
        #expect(Self.line(writer.stdout, "login")?.contains("token exchange works for writer") == true, "\(writer.stdout)")
        #expect(Self.line(writer.stdout, "push")?.contains("read-write (from the token scopes) for all 4 repositories") == true,
                "\(writer.stdout)")
        #expect(!writer.stdout.contains("writer-secret-1") && !writer.stderr.contains("writer-secret-1"))

        let partner = try await run("partner", "partner-secret-2")
        #expect(partner.exitCode == 1, "\(partner.stdout)")
        let push = try #require(Self.line(partner.stdout, "push"), "\(partner.stdout)")
        #expect(push.hasPrefix("FAIL") && push.contains("read-only (from the token scopes) for all 4 repositories"), "\(push)")
        #expect(push.contains("write:packages"), "the remedy names the missing scope: \(push)")
        #expect(partner.stdout.contains("doctor: 1 of 7 checks failed"),
                "\(partner.stdout)")

        // A partner checking its own token expects read-only: then it passes.
        let expected = try await run("partner", "partner-secret-2", ["--expect", "read-only", "--format", "json"])
        #expect(expected.exitCode == 0, "\(expected.stdout)")
        let json = try JSONSerialization.jsonObject(with: Data(expected.stdout.utf8)) as? [String: Any]
        #expect(json?["ok"] as? Bool == true)
        let checks = json?["checks"] as? [[String: Any]] ?? []
        #expect(checks.contains { $0["check"] as? String == "pull" && $0["outcome"] as? String == "pass" }, "\(checks)")

        // Token mode learns everything from the JWTs: not even a refused write was sent.
        #expect(registry.accessLog().allSatisfy { $0.method == "GET" || $0.method == "HEAD" }, "\(registry.accessLog())")
        try await expectNothingWritten(registry)
    }

    @Test func aWrongPasswordGetsTheNewTokenRemedyAndAnUnreachableRegistryItsOwn() async throws {
        let registry = try await RegistryFixture.start(.htpasswd(users: ["ci": "right-secret"]))
        let workspace = try Workspace()
        defer { Task { await registry.stop(); workspace.remove() } }
        let file = try workspace.servicesFile(namespace: "acme", services: ["api", "web"], tags: ["latest"])

        let wrong = try await doctor([file, "--registry", registry.address, "--username", "ci", "--password-stdin"],
                                     stdin: "wrong-secret", workspace)
        #expect(wrong.exitCode == 1)
        let login = try #require(Self.line(wrong.stdout, "login"), "\(wrong.stdout)")
        #expect(login.hasPrefix("FAIL") && login.contains("refused") && login.contains("new classic PAT"), "\(login)")
        #expect(Self.line(wrong.stdout, "push") == nil, "no access check after a refused login: \(wrong.stdout)")
        #expect(!wrong.stdout.contains("wrong-secret") && !wrong.stderr.contains("wrong-secret"))

        // The right password: Basic auth carries no scopes, so the probe that no registry can accept tells.
        let right = try await doctor([file, "--registry", registry.address, "--username", "ci", "--password-stdin"],
                                     stdin: "right-secret", workspace)
        #expect(right.exitCode == 0, "\(right.stdout)")
        #expect(Self.line(right.stdout, "push")?.contains("read-write (from the probe that writes nothing)") == true,
                "\(right.stdout)")
        try await expectNothingWritten(registry)

        let port = try LoopbackPort.free()
        let away = try await doctor([file, "--registry", "127.0.0.1:\(port)"], workspace)
        #expect(away.exitCode == 1)
        let line = try #require(Self.line(away.stdout, "registry"), "\(away.stdout)")
        #expect(line.hasPrefix("FAIL") && line.contains("cannot reach 127.0.0.1:\(port)") && line.contains("registry is running"),
                "\(line)")
    }

    @Test func aSkewedClockIsReported() async throws {
        let registry = try await RegistryFixture.start(.anonymous)
        let proxy = try await FaultProxy.start(upstream: registry.address, .init(rate: 0))
        let workspace = try Workspace()
        defer { Task { await proxy.stop(); await registry.stop(); workspace.remove() } }
        proxy.setDateShift(seconds: -7200)
        let run = try await doctor(["--registry", proxy.address], workspace)
        #expect(run.exitCode == 1, "\(run.stdout)")
        let clock = try #require(Self.line(run.stdout, "clock"), "\(run.stdout)")
        #expect(clock.hasPrefix("FAIL") && clock.contains("2 h 0 min ahead of the server's") && clock.contains("timedatectl"),
                "\(clock)")
        proxy.setDateShift(seconds: nil)
        let fine = try await doctor(["--registry", proxy.address], workspace)
        #expect(fine.exitCode == 0, "\(fine.stdout)")
        #expect(Self.line(fine.stdout, "clock")?.hasPrefix("ok") == true, "\(fine.stdout)")
    }

    @Test func aSettingsServerIDThatDoesNotMatchThePomIsExplained() async throws {
        let artifacts = try await MavenArtifacts.build(versions: ["1.0.0"])
        let staging = try TempDirectory.create(prefix: "doctor-maven-staging")
        // Reads need credentials too, as on GitHub Packages.
        let nginx = try await MavenRepositoryFixture.start(.init(anonymousReads: false))
        let workspace = try Workspace()
        defer { Task { await nginx.stop(); artifacts.remove(); staging.remove(); workspace.remove() } }
        let staged = try await artifacts.stage("1.0.0", into: staging.path)
        #expect(staged.succeeded, "\(staged)")
        func settings(_ id: String) throws -> String {
            try workspace.write("settings-\(id).xml", """
                <settings><servers><server><id>\(id)</id><username>\(nginx.writer.username)</username>\
                <password>${env.MAVEN_TEST_TOKEN}</password></server></servers></settings>
                """)
        }
        func run(_ settingsFile: String) async throws -> ChildResult {
            try await doctor(["--maven", staging.path, "--repository", nginx.baseURL, "-s", settingsFile],
                             environment: ["MAVEN_TEST_TOKEN": nginx.writer.password], workspace)
        }
        let mismatch = try await run(try settings("GitHub"))
        #expect(mismatch.exitCode == 1, "\(mismatch.stdout)")
        let line = try #require(Self.line(mismatch.stdout, "settings.xml"), "\(mismatch.stdout)")
        #expect(line.hasPrefix("FAIL") && line.contains("has servers [GitHub]") && line.contains("'github'")
                && line.contains("ids are case-sensitive"), "\(line)")

        let matching = try await run(try settings("github"))
        #expect(matching.exitCode == 0, "\(matching.stdout)")
        #expect(Self.line(matching.stdout, "settings.xml")?.contains("server 'github' is there") == true, "\(matching.stdout)")
        #expect(Self.line(matching.stdout, "repository")?.contains("with the credentials of \(nginx.writer.username)") == true,
                "\(matching.stdout)")
        #expect(!matching.stdout.contains(nginx.writer.password))
        #expect(nginx.accessLog().allSatisfy { $0.method == "GET" || $0.method == "HEAD" }, "\(nginx.accessLog())")

        // A wrong token: the repository refuses it and the remedy is a new token.
        let refused = try await doctor(["--maven", staging.path, "--repository", nginx.baseURL, "-s", try settings("github")],
                                       environment: ["MAVEN_TEST_TOKEN": "not-the-token"], workspace)
        #expect(refused.exitCode == 1)
        #expect(Self.line(refused.stdout, "repository")?.contains("credentials are refused") == true, "\(refused.stdout)")
    }

    @Test func anUntrustedCertificateAndACorruptDatabaseAreReported() async throws {
        let workspace = try Workspace()
        defer { workspace.remove() }
        let files = try await TLSTests().makeCertificates(in: workspace.directory.path)
        let other = workspace.directory.appendingPathComponent("other-ca").path
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        let stranger = try await TLSTests().makeCertificates(in: other)
        let registry = try await RegistryFixture.start(.htpasswd(users: ["ci": "tls-secret-42"]),
                                                       tls: .init(certificate: files.certificate, key: files.key))
        defer { Task { await registry.stop() } }
        let credentials = ["STEVEDORE_USERNAME": "ci", "STEVEDORE_PASSWORD": "tls-secret-42"]

        let untrusted = try await doctor(["--registry", registry.address, "--ca-cert", stranger.ca],
                                         environment: credentials, workspace)
        #expect(untrusted.exitCode == 1)
        let line = try #require(Self.line(untrusted.stdout, "registry"), "\(untrusted.stdout)")
        #expect(line.hasPrefix("FAIL") && line.contains("tls") && line.contains("--ca-cert FILE"), "\(line)")

        let trusted = try await doctor(["--registry", registry.address, "--ca-cert", files.ca],
                                       environment: credentials, workspace)
        #expect(trusted.exitCode == 0, "\(trusted.stdout)")
        #expect(Self.line(trusted.stdout, "registry")?.contains("https, certificate trusted (--ca-cert") == true,
                "\(trusted.stdout)")
        #expect(Self.line(trusted.stdout, "login")?.contains("login works for ci") == true, "\(trusted.stdout)")

        // A file that is not a SQLite database: reported, and left as it was.
        let garbage = Data("this is not a database, just some bytes".utf8)
        try garbage.write(to: URL(fileURLWithPath: workspace.db))
        let corrupt = try await doctor([], workspace)
        #expect(corrupt.exitCode == 1)
        let database = try #require(Self.line(corrupt.stdout, "database"), "\(corrupt.stdout)")
        #expect(database.hasPrefix("FAIL") && database.contains("restore it from a backup"), "\(database)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: workspace.db)) == garbage)
    }

    @Test func sourceImagesMustResolveWithTheSourceCredentials() async throws {
        let upstream = try await RegistryFixture.start(.anonymous)
        let destination = try await RegistryFixture.start(.anonymous)
        let workspace = try Workspace()
        defer { Task { await upstream.stop(); await destination.stop(); workspace.remove() } }
        let seed = try workspace.servicesFile("seed.yaml", namespace: "up", services: ["base"], tags: ["3.20"])
        let seeded = try await runStevedore(["provision", seed, "--registry", upstream.address, "--db", workspace.db],
                                            environment: [:])
        #expect(seeded.exitCode == 0, "\(seeded.stderr)")
        let file = try workspace.write("mirror.yaml", """
            registry: \(destination.address)
            namespace: org
            services:
              - name: base
                image: docker://\(upstream.address)/up/base:3.20
              - name: gone
                image: docker://\(upstream.address)/up/gone:1.0
            """)
        let before = upstream.accessLog().count
        let run = try await doctor([file], workspace)
        #expect(run.exitCode == 1, "\(run.stdout)")
        let source = try #require(Self.line(run.stdout, "source"), "\(run.stdout)")
        #expect(source.hasPrefix("FAIL") && source.contains("1 of 2 source images not found: \(upstream.address)/up/gone:1.0"),
                "\(source)")
        #expect(Self.line(run.stdout, "push")?.contains("for all 2 repositories") == true, "\(run.stdout)")
        #expect(upstream.accessLog().dropFirst(before).allSatisfy { $0.method == "GET" || $0.method == "HEAD" })
        try await expectNothingWritten(destination)
    }
}
