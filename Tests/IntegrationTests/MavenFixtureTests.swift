import Foundation
import Checksums
import Maven
import Testing
import TestSupport

/// The Maven fixtures themselves: nginx as a GitHub-like Maven repository, Debian's Maven deploying into it
/// and resolving from it with checksum policy `fail`.
@Suite struct MavenFixtureTests {
    static let reader = MavenCredentials(username: "reader", password: "reader-secret")

    @Test func nginxRefusesLikeGitHubPackages() async throws {
        let repository = try await MavenRepositoryFixture.start(.init(readers: [Self.reader.username: Self.reader.password]))
        print("timing: nginx ready \(repository.startDuration) after spawn")
        let writer = repository.writer
        let wrong = MavenCredentials(username: writer.username, password: "wrong")
        let release = "/com/example/smoke/lib/1.0.0/lib-1.0.0.jar"

        let created = try await repository.send("PUT", release, credentials: writer, body: Array("first".utf8))
        #expect(created.status == 201)
        #expect(repository.storedFile(release) == Array("first".utf8))
        #expect(try await repository.send("GET", release).bodyText == "first")
        #expect(try await repository.send("HEAD", release).status == 200)
        #expect(try await repository.send("GET", "/com/example/smoke/lib/1.0.0/missing.jar").status == 404)

        // Release immutability: 409, the stored file unchanged, the connection closed.
        let overwrite = try await repository.send("PUT", release, credentials: writer, body: Array("second".utf8))
        #expect(overwrite.status == 409)
        #expect(overwrite.header("Connection") == "close")
        #expect(repository.storedFile(release) == Array("first".utf8))
        // Credentials are checked before the conflict, and for new files.
        #expect(try await repository.send("PUT", release, credentials: wrong, body: [1]).status == 401)
        let anonymous = try await repository.send("PUT", "/com/example/smoke/lib/1.0.0/lib-1.0.0.pom", body: [1])
        #expect(anonymous.status == 401)
        #expect(anonymous.header("WWW-Authenticate") == "Basic realm=\"\(MavenRepositoryFixture.realm)\"")
        #expect(anonymous.header("Connection") == "close")
        #expect(try await repository.send("PUT", "/com/example/smoke/lib/1.0.0/new.jar", credentials: wrong, body: [1]).status == 401)

        // SNAPSHOT files and metadata may be replaced.
        let snapshot = "/com/example/smoke/lib/1.1.0-SNAPSHOT/lib-1.1.0-20261202.050146-1.jar"
        #expect(try await repository.send("PUT", snapshot, credentials: writer, body: [1]).status == 201)
        #expect(try await repository.send("PUT", snapshot, credentials: writer, body: [2]).status == 204)
        #expect(repository.storedFile(snapshot) == [2])
        for metadata in ["/com/example/smoke/lib/maven-metadata.xml", "/com/example/smoke/lib/maven-metadata.xml.sha1"] {
            #expect(try await repository.send("PUT", metadata, credentials: writer, body: [1]).status == 201)
            #expect(try await repository.send("PUT", metadata, credentials: writer, body: [2]).status == 204)
        }

        // The read-only user: 403 on PUT (401 with a wrong password), reads fine.
        let forbidden = try await repository.send("PUT", "/com/example/smoke/lib/1.0.0/lib-1.0.0-sources.jar",
                                                  credentials: Self.reader, body: [1])
        #expect(forbidden.status == 403)
        #expect(forbidden.header("Connection") == "close")
        #expect(repository.storedFile("/com/example/smoke/lib/1.0.0/lib-1.0.0-sources.jar") == nil)
        #expect(try await repository.send("PUT", "/x/y/1/y-1.jar", credentials: MavenCredentials(username: "reader", password: "no"),
                                          body: [1]).status == 401)
        #expect(try await repository.send("GET", release, credentials: Self.reader).status == 200)

        // No body size limit (nginx's default would answer 413 above 1 MiB).
        let big = [UInt8](repeating: 7, count: 3 << 20)
        #expect(try await repository.send("PUT", "/com/example/smoke/lib/1.0.0/lib-1.0.0-big.zip", credentials: writer,
                                          body: big).status == 201)
        #expect(repository.storedFile("/com/example/smoke/lib/1.0.0/lib-1.0.0-big.zip")?.count == big.count)

        // The access log keeps the client's method even for answers made by internal redirects. nginx writes a
        // line once the request is done, which can be just after the client read the answer: wait for the last one.
        var log = repository.accessLog()
        let deadline = ContinuousClock.now + .seconds(5)
        while !log.contains(where: { $0.contentLength == big.count }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            log = repository.accessLog()
        }
        let unauthorized = log.filter { $0.status == 401 }
        #expect(unauthorized.count == 4)
        #expect(unauthorized.allSatisfy { $0.method == "PUT" })
        #expect(unauthorized.filter { !$0.authorizationPresent }.map(\.uri) == ["/com/example/smoke/lib/1.0.0/lib-1.0.0.pom"])
        let conflict = try #require(log.first { $0.status == 409 })
        #expect(conflict.uri == release && conflict.user == writer.username && conflict.authorizationPresent)
        #expect(log.first { $0.status == 403 }?.user == "reader")
        #expect(log.first { $0.contentLength == big.count }?.status == 201)
        #expect(log.allSatisfy { $0.userAgent == FixtureHTTP.userAgent })
        #expect(repository.errorLog().contains("password mismatch"))

        let directory = repository.directory.path
        await repository.stop()
        #expect(!repository.isRunning)
        #expect(!FileManager.default.fileExists(atPath: directory))
        await repository.stop()
    }

    @Test func readsCanRequireCredentials() async throws {
        let repository = try await MavenRepositoryFixture.start(.init(readers: [Self.reader.username: Self.reader.password],
                                                                      anonymousReads: false, immutableReleases: false))
        let path = "/org/acme/app/2.0/app-2.0.pom"
        try repository.seed(path, Array("<project/>".utf8))
        #expect(try await repository.send("GET", path).status == 401)
        #expect(try await repository.send("GET", path, credentials: MavenCredentials(username: "reader", password: "x")).status == 401)
        #expect(try await repository.send("GET", path, credentials: Self.reader).bodyText == "<project/>")
        // Immutability off: a release overwrite is a plain 204.
        #expect(try await repository.send("PUT", path, credentials: repository.writer, body: [1]).status == 204)
        #expect(repository.storedPaths() == ["org/acme/app/2.0/app-2.0.pom"])
        await repository.stop()
    }

    @Test func mavenDeploysIntoNginxAndResolvesWithChecksumPolicyFail() async throws {
        let artifacts = try await MavenArtifacts.build(versions: ["1.0.0", "1.2.0-SNAPSHOT"])
        defer { artifacts.remove() }
        print("timing: javac + javadoc + 6 jars \(artifacts.buildDuration)")
        let repository = try await MavenRepositoryFixture.start()
        let checker = try MavenChecker(fixture: repository)
        defer { checker.remove() }
        let group = artifacts.groupId, name = artifacts.artifactId

        let deployed = try await artifacts.deploy("1.0.0", to: repository.baseURL, credentials: repository.writer)
        #expect(deployed.succeeded, "\(deployed)")
        print("timing: mvn deploy-file 1.0.0 (jar, pom, sources, javadoc) \(deployed.duration)")
        let releaseDir = "\(artifacts.artifactPath)/1.0.0"
        for file in ["\(name)-1.0.0.jar", "\(name)-1.0.0.pom", "\(name)-1.0.0-sources.jar", "\(name)-1.0.0-javadoc.jar"] {
            let sums = try MavenChecksums.ofFile(atPath: "\(artifacts.directory.file("versions/1.0.0"))/\(file)")
            for algorithm in ChecksumAlgorithm.allCases {
                #expect(repository.storedFile("\(releaseDir)/\(file)\(algorithm.fileSuffix)") == sums.fileContents(algorithm),
                        "\(file)\(algorithm.fileSuffix)")
            }
        }
        let puts = repository.accessLog().filter { $0.method == "PUT" }
        #expect(puts.count == 25)  // 4 files and the metadata, each with its 4 checksums
        #expect(puts.allSatisfy { $0.status == 201 && $0.user == repository.writer.username && $0.expect == "100-continue" })

        // The release and its classifier resolve with every checksum checked.
        let jar = try await checker.resolve(groupId: group, artifactId: name, version: "1.0.0")
        #expect(jar.succeeded, "\(jar)")
        #expect(jar.resolvedBytes() == FileManager.default.contents(atPath: artifacts.version("1.0.0").jar).map { Array($0) })
        #expect(jar.downloads == ["\(repository.baseURL)/\(releaseDir)/\(name)-1.0.0.pom",
                                  "\(repository.baseURL)/\(releaseDir)/\(name)-1.0.0.jar"])
        // Maven checks the strongest checksum the server has and reads no other.
        let checksumGets = repository.accessLog().filter { $0.method == "GET" && $0.uri.contains("-1.0.0.jar.") }
        #expect(checksumGets.map(\.uri) == ["/\(releaseDir)/\(name)-1.0.0.jar.sha512"])
        #expect(checksumGets.first?.status == 200)
        print("timing: mvn dependency:get 1.0.0 \(jar.run.duration)")
        let sources = try await checker.resolve(groupId: group, artifactId: name, version: "1.0.0", classifier: "sources")
        #expect(sources.succeeded, "\(sources)")
        #expect(sources.resolvedFile?.hasSuffix("\(name)-1.0.0-sources.jar") == true)

        // A second deploy of the release is refused, as GitHub would.
        let again = try await artifacts.deploy("1.0.0", to: repository.baseURL, credentials: repository.writer, classifiers: false)
        #expect(!again.succeeded)
        #expect(again.output.contains("409"))

        // Two SNAPSHOT builds: the latest one resolves.
        for _ in 1...2 {
            let snapshot = try await artifacts.deploy("1.2.0-SNAPSHOT", to: repository.baseURL, credentials: repository.writer)
            #expect(snapshot.succeeded, "\(snapshot)")
            print("timing: mvn deploy-file 1.2.0-SNAPSHOT \(snapshot.duration)")
        }
        let metadataPath = "\(artifacts.artifactPath)/1.2.0-SNAPSHOT/maven-metadata.xml"
        let metadata = try SnapshotMetadata.parse(Data(try #require(repository.storedFile(metadataPath))), source: metadataPath)
        #expect(metadata.snapshot?.buildNumber == 2)
        let latest = try await checker.resolve(groupId: group, artifactId: name, version: "1.2.0-SNAPSHOT")
        #expect(latest.succeeded, "\(latest)")
        let buildTwo = try #require(metadata.entry(classifier: nil, fileExtension: "jar")?.value)
        #expect(buildTwo.hasSuffix("-2"))
        #expect(latest.downloads.contains { $0.hasSuffix("/\(name)-\(buildTwo).jar") })
        #expect(latest.resolvedBytes() == repository.storedFile("\(artifacts.artifactPath)/1.2.0-SNAPSHOT/\(name)-\(buildTwo).jar"))
        print("timing: mvn dependency:get 1.2.0-SNAPSHOT \(latest.run.duration)")

        // What Maven left in its local repository is a ~/.m2 subtree the scanner reads (plain -SNAPSHOT names win).
        let local = try RepositoryScanner(root: "\(checker.localRepository)/\(artifacts.artifactPath)").scan()
        #expect(local.problems == [])
        #expect(local.versions.map(\.version) == ["1.2.0-SNAPSHOT"])
        #expect(local.versions.first?.snapshotNaming == .plain)

        // A tampered .sha1 fails a resolve that checks SHA-1; with SHA-512 first Maven never reads the .sha1.
        try repository.seed("\(releaseDir)/\(name)-1.0.0.jar.sha1", Array(String(repeating: "0", count: 40).utf8))
        let sha1Only = try await checker.resolve(groupId: group, artifactId: name, version: "1.0.0", checksumAlgorithms: ["SHA-1"])
        #expect(!sha1Only.succeeded)
        #expect(sha1Only.output.contains("Checksum validation failed"))
        print("timing: mvn dependency:get failing on a bad .sha1 \(sha1Only.run.duration)")
        #expect(try await checker.resolve(groupId: group, artifactId: name, version: "1.0.0").succeeded)
        try repository.seed("\(releaseDir)/\(name)-1.0.0.jar.sha512", Array(String(repeating: "0", count: 128).utf8))
        let badStrongest = try await checker.resolve(groupId: group, artifactId: name, version: "1.0.0")
        #expect(!badStrongest.succeeded)
        #expect(badStrongest.output.contains("Checksum validation failed"))
        await repository.stop()
    }
}
