import Foundation
import Checksums
import Maven
import Testing
import TestSupport

/// The Maven module against what Maven itself writes: a directory staged with `mvn deploy-file -Durl=file:DIR`.
@Suite struct MavenStagingTests {
    @Test func scannerReadsWhatMavenStagedAndMetadataMatchesMavens() async throws {
        let artifacts = try await MavenArtifacts.build()
        defer { artifacts.remove() }
        let staging = try TempDirectory.create(prefix: "staging")
        defer { staging.remove() }
        let clock = ContinuousClock()
        let start = clock.now
        for version in ["1.0.0", "1.1.0", "1.2.0-SNAPSHOT", "1.2.0-SNAPSHOT"] {
            let run = try await artifacts.stage(version, into: staging.path)
            #expect(run.succeeded, "\(run)")
        }
        print("timing: 4 x mvn deploy-file to file: \(clock.now - start)")

        let scan = try RepositoryScanner(root: staging.path).scan()
        #expect(scan.problems == [])
        #expect(scan.versions.map(\.description) == ["com.example.stevedore:greeter:1.0.0", "com.example.stevedore:greeter:1.1.0",
                                                     "com.example.stevedore:greeter:1.2.0-SNAPSHOT"])
        #expect(ChecksumVerifier.verify(scan) == [])
        let release = scan.versions[0]
        #expect(release.files.map(\.name) == ["greeter-1.0.0.jar", "greeter-1.0.0.pom", "greeter-1.0.0-javadoc.jar",
                                              "greeter-1.0.0-sources.jar"])
        #expect(release.files.allSatisfy { Set($0.checksumFiles.keys) == Set(ChecksumAlgorithm.allCases) })
        #expect(release.pom.deploymentRepository == PomInfo.DeploymentRepository(
            id: "github", url: "https://maven.pkg.github.com/example/greeter"))
        #expect(ServerIDMismatch.explain(repositoryID: "github", source: .pom(path: release.pom.path, snapshot: false),
                                         settings: nil, settingsPath: "/none/settings.xml") != nil)

        // The SNAPSHOT: the second build, as the directory's own metadata says.
        let snapshot = scan.versions[2]
        let versionMetadataPath = "\(snapshot.directory)/maven-metadata.xml"
        let mavensVersionMetadata = try Data(contentsOf: URL(fileURLWithPath: versionMetadataPath))
        let parsed = try SnapshotMetadata.parse(mavensVersionMetadata, source: versionMetadataPath)
        guard case .timestamped(let build) = snapshot.snapshotNaming else {
            Issue.record("expected timestamped files, got \(String(describing: snapshot.snapshotNaming))")
            return
        }
        #expect(build.buildNumber == 2)
        #expect(parsed.snapshot?.buildNumber == 2 && parsed.snapshot?.timestamp == build.timestamp)
        #expect(snapshot.files.map(\.name) == ["jar", "pom", "javadoc.jar", "sources.jar"].map {
            $0.contains(".") ? "greeter-\(build.value)-\($0)" : "greeter-\(build.value).\($0)"
        })
        #expect(scan.ignored.filter { $0.reason.contains("another build") }.count == 4)
        #expect(scan.ignored.filter { $0.reason == "checksum of a file not published" }.count == 4 * 4)
        // Our rendering of Maven's version-level document is byte for byte Maven's.
        #expect(parsed.render() == String(decoding: mavensVersionMetadata, as: UTF8.self))
        // And building it ourselves from the build and its files gives the same document.
        let entries = parsed.snapshotVersions
        let versionUpdated = try #require(parsed.lastUpdated.flatMap(Self.date(fromLastUpdated:)))
        let rebuilt = SnapshotMetadata(groupId: artifacts.groupId, artifactId: artifacts.artifactId, build: build,
                                       files: entries.map { ($0.classifier, $0.fileExtension) }, at: versionUpdated)
        #expect(rebuilt == parsed)

        // Artifact-level metadata: ours after the same deploys equals Maven's but for lastUpdated.
        let artifactMetadataPath = staging.file("\(artifacts.artifactPath)/maven-metadata.xml")
        let mavensArtifactMetadata = try Data(contentsOf: URL(fileURLWithPath: artifactMetadataPath))
        let maven = try ArtifactMetadata.parse(mavensArtifactMetadata, source: artifactMetadataPath)
        #expect(maven.versions == ["1.0.0", "1.1.0", "1.2.0-SNAPSHOT"])
        #expect(maven.release == "1.1.0")
        #expect(maven.latest == nil)
        let lastUpdated = try #require(maven.lastUpdated.flatMap(Self.date(fromLastUpdated:)))
        let ours = try ArtifactMetadata.afterPublishing(["1.0.0", "1.1.0", "1.2.0-SNAPSHOT", "1.2.0-SNAPSHOT"],
                                                        groupId: artifacts.groupId, artifactId: artifacts.artifactId,
                                                        remote: nil, at: lastUpdated, source: "ours")
        #expect(ours.render() == String(decoding: mavensArtifactMetadata, as: UTF8.self))

        // Maven's own checksum files of the metadata agree with our digests of it.
        let sums = MavenChecksums.of(Array(mavensArtifactMetadata))
        for algorithm in ChecksumAlgorithm.allCases {
            let written = try Data(contentsOf: URL(fileURLWithPath: artifactMetadataPath + algorithm.fileSuffix))
            #expect(Array(written) == sums.fileContents(algorithm), "\(algorithm)")
        }

        // A file changed after staging is caught before any request.
        let jar = release.files[0].path
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: jar))
        let problems = ChecksumVerifier.verify(release)
        #expect(problems.map(\.path).sorted() == ChecksumAlgorithm.allCases.map { jar + $0.fileSuffix }.sorted())
    }

    /// `yyyyMMddHHmmss` (UTC) back to a date.
    static func date(fromLastUpdated text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss"
        return formatter.date(from: text)
    }
}
