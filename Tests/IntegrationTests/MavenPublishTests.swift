import Foundation
import Testing
import TestSupport

/// `stevedore maven publish|verify` against Debian's nginx as a WebDAV Maven repository (release files immutable,
/// like GitHub Packages), checked independently with Debian's `mvn dependency:get`.
@Suite(.serialized) struct MavenPublishTests {
    /// Artifacts built once with the JDK, staged by Maven's own deploy-file: two releases and a SNAPSHOT.
    struct Setup {
        let artifacts: MavenArtifacts
        let staging: TempDirectory
        let workspace: Workspace

        static func make() async throws -> Setup {
            let artifacts = try await MavenArtifacts.build()
            let staging = try TempDirectory.create(prefix: "maven-staging")
            for version in ["1.0.0", "1.1.0", "1.2.0-SNAPSHOT"] {
                let run = try await artifacts.stage(version, into: staging.path)
                guard run.succeeded else { throw TestSupportError("staging \(version) failed: \(run)") }
            }
            return Setup(artifacts: artifacts, staging: staging, workspace: try Workspace())
        }

        func remove() {
            artifacts.remove()
            staging.remove()
            workspace.remove()
        }

        /// A settings.xml with one server (the poms deploy to id `github`).
        func settings(id: String = "github", _ credentials: MavenCredentials) throws -> String {
            try workspace.write("settings-\(id)-\(credentials.username).xml", """
                <settings><servers><server><id>\(id)</id><username>\(credentials.username)</username>\
                <password>${env.MAVEN_TEST_TOKEN}</password></server></servers></settings>
                """)
        }

        func publish(_ url: String, settings: String, token: String, _ extra: [String] = [],
                     command: String = "publish") async throws -> ChildResult {
            try await runStevedore(["maven", command, staging.path, "--repository", url, "-s", settings,
                                    "--db", workspace.db] + extra,
                                   environment: ["MAVEN_TEST_TOKEN": token], timeout: .seconds(300))
        }
    }

    static let versions = ["1.0.0", "1.1.0", "1.2.0-SNAPSHOT"]

    @Test func publishesWhatMavenResolvesAndARerunSendsNoPut() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        let nginx = try await MavenRepositoryFixture.start()
        let settings = try setup.settings(nginx.writer)
        let run = try await setup.publish(nginx.baseURL, settings: settings, token: nginx.writer.password)
        #expect(run.exitCode == 0, "\(run.stderr)\n\(run.stdout)")
        #expect(!run.stdout.contains(nginx.writer.password) && !run.stderr.contains(nginx.writer.password))

        // Maven itself resolves every version (checksums policy fail, SHA-512 on), classifiers included.
        let checker = try MavenChecker(fixture: nginx)
        defer { checker.remove() }
        for version in Self.versions {
            for classifier in [nil, "sources", "javadoc"] as [String?] {
                let resolved = try await checker.resolve(groupId: setup.artifacts.groupId, artifactId: setup.artifacts.artifactId,
                                                         version: version, classifier: classifier)
                #expect(resolved.succeeded, "\(version) \(classifier ?? ""): \(resolved)")
            }
            let local = setup.artifacts.version(version).jar
            let resolved = try await checker.resolve(groupId: setup.artifacts.groupId, artifactId: setup.artifacts.artifactId,
                                                     version: version)
            #expect(resolved.resolvedBytes() == FileManager.default.contents(atPath: local).map { Array($0) }, "\(version)")
        }
        let metadata = String(decoding: nginx.storedFile("\(setup.artifacts.artifactPath)/maven-metadata.xml") ?? [], as: UTF8.self)
        for version in Self.versions { #expect(metadata.contains("<version>\(version)</version>"), "\(metadata)") }
        #expect(metadata.contains("<release>1.1.0</release>"))

        // The audit log: a job per version, an item per file.
        let jobs = try await sqlite(setup.workspace.db, "SELECT kind, service, status FROM jobs ORDER BY seq")
        #expect(jobs == Self.versions.map { "maven-artifact|com.example.stevedore:greeter:\($0)|succeeded" })
        let files = try await sqlite(setup.workspace.db, "SELECT action, count(*) FROM item_results GROUP BY action")
        #expect(files == ["uploaded|12"])
        let verify = try await runStevedore(["audit", "verify", "--db", setup.workspace.db], environment: [:])
        #expect(verify.exitCode == 0, "\(verify.stderr)")

        // A rerun sends no PUT, and verify finds every file.
        let before = nginx.accessLog().count
        let again = try await setup.publish(nginx.baseURL, settings: settings, token: nginx.writer.password)
        #expect(again.exitCode == 0, "\(again.stderr)")
        #expect(nginx.accessLog().dropFirst(before).filter { $0.method == "PUT" }.isEmpty)
        let check = try await setup.publish(nginx.baseURL, settings: settings, token: nginx.writer.password, command: "verify")
        #expect(check.exitCode == 0, "\(check.stderr)")
        await nginx.stop()
    }

    @Test func aChangedReleaseIsAConflictAndNothingIsOverwritten() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        let nginx = try await MavenRepositoryFixture.start()
        let settings = try setup.settings(nginx.writer)
        #expect(try await setup.publish(nginx.baseURL, settings: settings, token: nginx.writer.password).exitCode == 0)
        let jarPath = "\(setup.artifacts.artifactPath)/1.0.0/greeter-1.0.0.jar"
        let published = nginx.storedFile(jarPath)

        // The staged jar is rebuilt with other content (and its checksum files with it, as Maven would).
        let staged = "\(setup.staging.path)/\(jarPath)"
        try Data("not the released jar".utf8).write(to: URL(fileURLWithPath: staged))
        for suffix in ["md5", "sha1", "sha256", "sha512"] { try? FileManager.default.removeItem(atPath: "\(staged).\(suffix)") }
        let run = try await setup.publish(nginx.baseURL, settings: settings, token: nginx.writer.password,
                                          ["--version", "1.0.0"])
        #expect(run.exitCode == 1)
        #expect(nginx.storedFile(jarPath) == published, "the released jar is unchanged")
        let failed = try await sqlite(setup.workspace.db, "SELECT error_class, attempts FROM jobs WHERE status = 'failed'")
        #expect(failed == ["conflict|1"], "not retried")
        let conflict = try await runStevedore(["report", "failures", "--format", "json", "--db", setup.workspace.db],
                                              environment: [:])
        #expect(conflict.stdout.contains("releases are immutable; publish a new version"), "\(conflict.stdout)")
        await nginx.stop()
    }

    @Test func refusedCredentialsAndAReadOnlyTokenStopBeforeTheBatchAndIdMismatchesAreExplained() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        let reader = MavenCredentials(username: "partner", password: "partner-secret")
        let nginx = try await MavenRepositoryFixture.start(.init(readers: [reader.username: reader.password]))

        // A wrong password: exit 4 before any job, nothing uploaded.
        let wrong = try await setup.publish(nginx.baseURL, settings: try setup.settings(nginx.writer), token: "wrong")
        #expect(wrong.exitCode == 4, "\(wrong.stderr)")
        #expect(wrong.stderr.contains("401") && wrong.stderr.contains("settings.xml"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("wrong\n") && !wrong.stderr.contains(": wrong"))
        #expect(nginx.accessLog().filter { $0.method == "PUT" && $0.status < 300 }.isEmpty, "nothing uploaded")

        // A read-only token: the first job is refused (403), the others are not attempted: exit 4.
        let readOnly = try await setup.publish(nginx.baseURL, settings: try setup.settings(reader), token: reader.password)
        #expect(readOnly.exitCode == 4, "\(readOnly.stderr)")
        #expect(readOnly.stderr.contains("write:packages"), "\(readOnly.stderr)")
        #expect(nginx.accessLog().filter { $0.method == "PUT" && $0.status == 403 }.count == 1)
        #expect(nginx.accessLog().filter { $0.method == "PUT" && $0.status < 300 }.isEmpty)
        let classes = try await sqlite(setup.workspace.db, "SELECT error_class, attempts FROM jobs WHERE run_id = (SELECT max(id) FROM runs) ORDER BY seq")
        #expect(classes.first == "denied|1" && classes.count == 3, "\(classes)")
        // ...but it may verify.
        let check = try await setup.publish(nginx.baseURL, settings: try setup.settings(reader), token: reader.password,
                                            command: "verify")
        #expect(check.exitCode == 1, "nothing is published yet: \(check.stderr)")

        // The settings.xml server id does not match the pom's repository id: the seed's first troubleshooting row.
        let mismatch = try await setup.publish(nginx.baseURL, settings: try setup.settings(id: "GitHub", nginx.writer),
                                               token: nginx.writer.password)
        #expect(mismatch.exitCode == 2)
        #expect(mismatch.stderr.contains("has servers [GitHub] but the pom's distributionManagement repository id is 'github'"),
                "\(mismatch.stderr)")
        #expect(mismatch.stderr.contains("ids are case-sensitive"))
        await nginx.stop()
    }

    @Test func faultsAreRetriedAndAPartialReleaseIsCompleted() async throws {
        let setup = try await Setup.make()
        defer { setup.remove() }
        let nginx = try await MavenRepositoryFixture.start()
        let proxy = try await FaultProxy.start(upstream: "127.0.0.1:\(nginx.port)", .init(rate: 0))
        let settings = try setup.settings(nginx.writer)
        _ = proxy.install(.init(.init(method: "PUT", pathContains: "sources.jar", occurrence: 1),
                                .answer(status: 503, code: nil, message: "unavailable", headers: [:])))
        _ = proxy.install(.init(.init(method: "PUT", pathContains: "javadoc.jar", occurrence: 1),
                                .resetAfterBodyBytes(100, forwardPartial: false)))
        let run = try await setup.publish("http://\(proxy.address)", settings: settings, token: nginx.writer.password,
                                          ["--version", "1.0.0"])
        #expect(run.exitCode == 0, "\(run.stderr)")
        let failed = try await sqlite(setup.workspace.db, "SELECT error_class FROM attempts WHERE outcome = 'failed' ORDER BY id")
        #expect(failed == ["server", "network"] || failed == ["network", "server"], "\(failed)")

        // A partial release (the jar is there, the rest is not, as a failed mvn deploy leaves it) is completed.
        let path = "\(setup.artifacts.artifactPath)/1.1.0/greeter-1.1.0.jar"
        let jar = try #require(FileManager.default.contents(atPath: "\(setup.staging.path)/\(path)"))
        let put = try await nginx.send("PUT", "/\(path)", credentials: nginx.writer, body: Array(jar))
        #expect(put.status == 201)
        let complete = try await setup.publish(nginx.baseURL, settings: settings, token: nginx.writer.password,
                                               ["--version", "1.1.0"])
        #expect(complete.exitCode == 0, "\(complete.stderr)")
        let actions = try await sqlite(setup.workspace.db, """
            SELECT r.item, r.action FROM item_results r JOIN jobs j ON j.id = r.job_id
            WHERE j.run_id = (SELECT max(id) FROM runs) ORDER BY r.id
            """)
        #expect(actions.first == "greeter-1.1.0.jar|uploaded", "409, same content: counted as there, checksums added: \(actions)")
        #expect(actions.count == 4)
        let checker = try MavenChecker(fixture: nginx)
        defer { checker.remove() }
        #expect(try await checker.resolve(groupId: setup.artifacts.groupId, artifactId: setup.artifacts.artifactId,
                                          version: "1.1.0").succeeded)
        await proxy.stop()
        await nginx.stop()
    }
}
