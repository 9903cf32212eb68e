import Foundation
import Testing
import TestSupport

/// The ghcr.io flow against the real registry in `auth: token` mode with the token-server fixture.
@Suite(.serialized) struct TokenAuthTests {
    static let writerPassword = "writer-pat-0123456789abcdef"
    static let readerPassword = "reader-pat-fedcba9876543210"
    static let scopedPassword = "scoped-pat-5555555555555555"

    struct Setup {
        let tokens: TokenServer
        let registry: RegistryFixture
        let workspace: Workspace

        func stop() async {
            await registry.stop()
            await tokens.stop()
            workspace.remove()
        }
    }

    func start() async throws -> Setup {
        let tokens = try await TokenServer.start(users: [
            "writer": .readWrite(TokenAuthTests.writerPassword),
            "reader": .readOnly(TokenAuthTests.readerPassword),
            "scoped": TokenServer.User(password: TokenAuthTests.scopedPassword, grants: [("org/team-a-", ["pull", "push"])]),
        ])
        let registry = try await RegistryFixture.start(.token(realm: tokens.realm, service: TokenServer.service,
                                                              issuer: TokenServer.issuer,
                                                              rootCertBundle: tokens.certificatePath))
        return Setup(tokens: tokens, registry: registry, workspace: try Workspace())
    }

    @Test func pushesWithCredentialsFromDockerConfigWithOneTokenRequestPerRepository() async throws {
        let setup = try await start()
        let file = try setup.workspace.servicesFile(namespace: "org", services: (1...12).map { "svc\($0)" },
                                                    tags: ["latest", "0.1.0"])
        let dockerDirectory = setup.workspace.directory.appendingPathComponent("docker").path
        try FileManager.default.createDirectory(atPath: dockerDirectory, withIntermediateDirectories: true)
        let auth = Data("writer:\(Self.writerPassword)".utf8).base64EncodedString()
        try Data(#"{"auths":{"\#(setup.registry.address)":{"auth":"\#(auth)"}}}"#.utf8)
            .write(to: URL(fileURLWithPath: dockerDirectory + "/config.json"))
        let run = try await runStevedore(["provision", file, "--registry", setup.registry.address, "--db", setup.workspace.db],
                                         environment: ["DOCKER_CONFIG": dockerDirectory])
        #expect(run.exitCode == 0, "stderr: \(run.stderr)")
        // One token for the ping, then at most one per repository.
        #expect(setup.tokens.requestCount <= 1 + 12, "\(setup.tokens.requestedScopes)")
        #expect(try await Skopeo.inspect(reference: "\(setup.registry.address)/org/svc7:0.1.0",
                                         credentials: ("writer", Self.writerPassword)).digest == placeholderDigest)
        let unauthorized = setup.registry.accessLog().filter { $0.status == 401 && $0.path != "/v2/" }
        #expect(unauthorized.isEmpty)
        await setup.stop()
    }

    @Test func pushesWithEnvironmentAndStdinCredentialsAndNeverLeaksThem() async throws {
        let setup = try await start()
        let file = try setup.workspace.servicesFile(namespace: "org", services: ["a", "b", "c"], tags: ["latest"])
        let viaEnv = try await runStevedore(["provision", file, "--registry", setup.registry.address, "--db", setup.workspace.db],
                                            environment: ["USER_NAME": "writer", "CR_PAT": Self.writerPassword])
        #expect(viaEnv.exitCode == 0, "stderr: \(viaEnv.stderr)")
        let viaStdin = try await runStevedore(
            ["provision", file, "--registry", setup.registry.address, "--db", setup.workspace.db, "--username", "writer",
             "--password-stdin", "--force"],
            environment: [:], stdin: Array(Self.writerPassword.utf8))
        #expect(viaStdin.exitCode == 0, "stderr: \(viaStdin.stderr)")
        let dump = try await ChildProcess.run(executable: "/usr/bin/sqlite3", arguments: [setup.workspace.db, ".dump"],
                                              environment: [:])
        for output in [dump.stdout, viaEnv.stdout, viaEnv.stderr, viaStdin.stdout, viaStdin.stderr] {
            #expect(!output.contains(Self.writerPassword))
            #expect(!output.contains("eyJ"))  // no JWT either
        }
        await setup.stop()
    }

    @Test func aReadOnlyTokenStopsTheBatchAtOnceWithTheRemedyButCanVerify() async throws {
        let setup = try await start()
        let file = try setup.workspace.servicesFile(namespace: "org", services: (1...30).map { "ro\($0)" }, tags: ["latest"])
        let started = ContinuousClock.now
        let run = try await runStevedore(["provision", file, "--registry", setup.registry.address, "--db", setup.workspace.db],
                                         environment: ["USER_NAME": "reader", "CR_PAT": Self.readerPassword])
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(run.exitCode == 1)
        #expect(run.stderr.contains("denied: the credentials of reader cannot push to \(setup.registry.address)/org/ro1"))
        #expect(run.stderr.contains("read-only credentials can only run stevedore verify"))
        let jobs = try await sqlite(setup.workspace.db, "SELECT status, error_class, attempts, count(*) FROM jobs GROUP BY 1, 2, 3 ORDER BY 3")
        let messages = try await sqlite(setup.workspace.db, "SELECT error_message FROM jobs WHERE attempts = 1")
        #expect(jobs == ["failed|denied|0|29", "failed|denied|1|1"], "\(messages)")
        #expect(count(setup.registry.accessLog(), "PUT", "/manifests/") == 0)

        // The same token verifies what a writer provisioned.
        let writer = try await runStevedore(["provision", file, "--registry", setup.registry.address, "--db", setup.workspace.db],
                                            environment: ["USER_NAME": "writer", "CR_PAT": Self.writerPassword])
        #expect(writer.exitCode == 0, "stderr: \(writer.stderr)")
        let verify = try await runStevedore(["verify", file, "--registry", setup.registry.address, "--db", setup.workspace.db],
                                            environment: ["USER_NAME": "reader", "CR_PAT": Self.readerPassword])
        #expect(verify.exitCode == 0, "stderr: \(verify.stderr)")
        await setup.stop()
    }

    @Test func aScopedUserSucceedsInsideItsScopeAndIsDeniedOutside() async throws {
        let setup = try await start()
        let file = try setup.workspace.write("scoped.yaml", """
            namespace: org
            services: [team-a-api, team-a-web, team-b-api]
            """)
        let run = try await runStevedore(["provision", file, "--registry", setup.registry.address, "--db", setup.workspace.db],
                                         environment: ["STEVEDORE_USERNAME": "scoped", "STEVEDORE_PASSWORD": Self.scopedPassword])
        #expect(run.exitCode == 1)
        let jobs = try await sqlite(setup.workspace.db, "SELECT service, status, error_class, attempts FROM jobs ORDER BY seq")
        #expect(jobs == ["team-a-api|succeeded||1", "team-a-web|succeeded||1", "team-b-api|failed|denied|1"])
        await setup.stop()
    }

    @Test func aWrongPasswordIsAuthFailedWithExit4() async throws {
        let setup = try await start()
        let file = try setup.workspace.servicesFile(namespace: "org", services: ["x"], tags: ["latest"])
        let run = try await runStevedore(["provision", file, "--registry", setup.registry.address, "--db", setup.workspace.db],
                                         environment: ["USER_NAME": "writer", "CR_PAT": "wrong-password-xyz"])
        #expect(run.exitCode == 4)
        #expect(run.stderr.contains("refused the credentials"))
        #expect(!run.stderr.contains("wrong-password-xyz"))
        #expect(try await sqlite(setup.workspace.db, "SELECT status, error_class FROM jobs") == ["failed|auth_failed"])
        await setup.stop()
    }

    @Test func usesACredentialHelperAndLoginWritesAConfigSkopeoReads() async throws {
        let setup = try await start()
        let bin = setup.workspace.directory.appendingPathComponent("bin").path
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let helper = bin + "/docker-credential-fixture"
        try Data("""
            #!/bin/sh
            read server
            [ "$1" = get ] || exit 1
            printf '{"ServerURL":"%s","Username":"writer","Secret":"\(Self.writerPassword)"}' "$server"
            """.utf8).write(to: URL(fileURLWithPath: helper))
        chmod(helper, 0o755)
        let helperConfig = setup.workspace.directory.appendingPathComponent("helper-docker").path
        try FileManager.default.createDirectory(atPath: helperConfig, withIntermediateDirectories: true)
        try Data(#"{"credsStore":"fixture"}"#.utf8).write(to: URL(fileURLWithPath: helperConfig + "/config.json"))
        let file = try setup.workspace.servicesFile(namespace: "org", services: ["helped"], tags: ["latest"])
        let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let viaHelper = try await runStevedore(["provision", file, "--registry", setup.registry.address, "--db", setup.workspace.db],
                                               environment: ["DOCKER_CONFIG": helperConfig, "PATH": path])
        #expect(viaHelper.exitCode == 0, "stderr: \(viaHelper.stderr)")

        // login: checks the credentials, then writes docker's config (0600) that skopeo can use.
        let loginConfig = setup.workspace.directory.appendingPathComponent("login-docker").path
        let wrong = try await runStevedore(["login", setup.registry.address, "--username", "writer", "--password-stdin"],
                                           environment: ["DOCKER_CONFIG": loginConfig], stdin: Array("nope".utf8))
        #expect(wrong.exitCode == 4)
        #expect(!FileManager.default.fileExists(atPath: loginConfig + "/config.json"))
        let login = try await runStevedore(["login", setup.registry.address, "--username", "writer", "--password-stdin"],
                                           environment: ["DOCKER_CONFIG": loginConfig], stdin: Array(Self.writerPassword.utf8))
        #expect(login.exitCode == 0, "stderr: \(login.stderr)")
        let attributes = try FileManager.default.attributesOfItem(atPath: loginConfig + "/config.json")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let inspect = try await ChildProcess.run(
            executable: "/usr/bin/skopeo",
            arguments: ["inspect", "--tls-verify=false", "--authfile", loginConfig + "/config.json",
                        "docker://\(setup.registry.address)/org/helped:latest"],
            environment: ChildProcess.inheritedEnvironment())
        #expect(inspect.exitCode == 0, "\(inspect.stderr)")
        let viaLogin = try await runStevedore(["verify", file, "--registry", setup.registry.address, "--db", setup.workspace.db],
                                              environment: ["DOCKER_CONFIG": loginConfig])
        #expect(viaLogin.exitCode == 0, "stderr: \(viaLogin.stderr)")
        await setup.stop()
    }
}
