import Foundation
import Checksums
import Maven
import Testing
import TestSupport

/// Writes a repository layout into a temporary directory.
struct LayoutWriter {
    let directory: TempDirectory

    init() throws { directory = try TempDirectory.create(prefix: "layout") }

    var root: String { directory.path }

    /// Writes `contents` at `path`, plus the checksum files of `algorithms` (Maven's bare hex form).
    func put(_ path: String, _ contents: String, checksums algorithms: [ChecksumAlgorithm] = []) throws {
        let full = directory.file(path)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: full))
        let sums = MavenChecksums.of(Array(contents.utf8))
        for algorithm in algorithms {
            try Data(sums[algorithm].utf8).write(to: URL(fileURLWithPath: full + algorithm.fileSuffix))
        }
    }

    static func pom(_ groupId: String, _ artifactId: String, _ version: String, packaging: String = "jar") -> String {
        """
        <project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
          <groupId>\(groupId)</groupId><artifactId>\(artifactId)</artifactId><version>\(version)</version>
          <packaging>\(packaging)</packaging>
        </project>
        """
    }

    /// A release as a file: deploy leaves it: jar, pom, sources, javadoc, a signature, checksums, metadata.
    func release(_ version: String, group: String = "com/example/tools", artifact: String = "greeter") throws {
        let groupId = group.replacingOccurrences(of: "/", with: ".")
        let base = "\(group)/\(artifact)/\(version)/\(artifact)-\(version)"
        let all = ChecksumAlgorithm.allCases
        try put("\(base).jar", "jar \(version)", checksums: all)
        try put("\(base).pom", Self.pom(groupId, artifact, version), checksums: all)
        try put("\(base)-sources.jar", "sources \(version)", checksums: all)
        try put("\(base)-javadoc.jar", "javadoc \(version)", checksums: [.sha1, .md5])
        try put("\(base).jar.asc", "signature \(version)", checksums: [.sha1])
        try put("\(group)/\(artifact)/maven-metadata.xml", "<metadata/>", checksums: all)
    }
}

@Suite struct ScannerTests {
    @Test func findsReleasesInVersionOrderWithFilesInMavensUploadOrder() throws {
        let layout = try LayoutWriter()
        defer { layout.directory.remove() }
        for version in ["1.10.0", "1.0.0", "1.2.0"] { try layout.release(version) }
        let scan = try RepositoryScanner(root: layout.root).scan()
        #expect(scan.problems == [])
        #expect(scan.versions.map(\.version) == ["1.0.0", "1.2.0", "1.10.0"])
        let first = try #require(scan.versions.first)
        #expect(first.groupId == "com.example.tools")
        #expect(first.artifactId == "greeter")
        #expect(first.gavPath == "com/example/tools/greeter/1.0.0")
        #expect(first.artifactPath == "com/example/tools/greeter")
        #expect(!first.isSnapshot)
        #expect(first.files.map(\.name) == ["greeter-1.0.0.jar", "greeter-1.0.0.pom", "greeter-1.0.0.jar.asc",
                                            "greeter-1.0.0-javadoc.jar", "greeter-1.0.0-sources.jar"])
        #expect(first.files.map(\.fileExtension) == ["jar", "pom", "jar.asc", "jar", "jar"])
        #expect(first.mainArtifact?.name == "greeter-1.0.0.jar")
        #expect(first.pomFile.name == "greeter-1.0.0.pom")
        #expect(first.files[0].size == Int64("jar 1.0.0".utf8.count))
        #expect(Set(first.files[0].checksumFiles.keys) == Set(ChecksumAlgorithm.allCases))
        #expect(first.files[3].checksumFiles[.sha1] == "\(first.directory)/greeter-1.0.0-javadoc.jar.sha1")
        #expect(try first.coordinates(of: first.files[4]).path == "com/example/tools/greeter/1.0.0/greeter-1.0.0-sources.jar")
        let ignoredNames = Set(scan.ignored.map { ($0.path as NSString).lastPathComponent })
        #expect(ignoredNames == ["maven-metadata.xml", "maven-metadata.xml.md5", "maven-metadata.xml.sha1",
                                 "maven-metadata.xml.sha256", "maven-metadata.xml.sha512"])
        #expect(ChecksumVerifier.verify(scan) == [])
    }

    @Test func timestampedSnapshotPublishesTheBuildItsMetadataNames() throws {
        let layout = try LayoutWriter()
        defer { layout.directory.remove() }
        let dir = "com/example/greeter/1.2.0-SNAPSHOT"
        for (stamp, build) in [("20261202.050146", 1), ("20261202.060000", 2), ("20261202.070000", 3)] {
            let base = "\(dir)/greeter-1.2.0-\(stamp)-\(build)"
            try layout.put("\(base).jar", "jar \(build)", checksums: [.sha1])
            try layout.put("\(base)-sources.jar", "src \(build)", checksums: [.sha1])
            if build < 3 { try layout.put("\(base).pom", LayoutWriter.pom("com.example", "greeter", "1.2.0-SNAPSHOT")) }
        }
        try layout.put("\(dir)/maven-metadata.xml", """
            <metadata modelVersion="1.1.0"><groupId>com.example</groupId><artifactId>greeter</artifactId>
            <versioning><snapshot><timestamp>20261202.050146</timestamp><buildNumber>1</buildNumber></snapshot></versioning>
            <version>1.2.0-SNAPSHOT</version></metadata>
            """)
        var scan = try RepositoryScanner(root: layout.root).scan()
        #expect(scan.problems == [])
        var version = try #require(scan.versions.first)
        let first = try #require(SnapshotVersion(baseVersion: "1.2.0-SNAPSHOT", timestamp: "20261202.050146", buildNumber: 1))
        #expect(version.snapshotNaming == .timestamped(first))
        #expect(version.files.map(\.name) == ["greeter-1.2.0-20261202.050146-1.jar", "greeter-1.2.0-20261202.050146-1.pom",
                                              "greeter-1.2.0-20261202.050146-1-sources.jar"])
        #expect(scan.ignored.contains { $0.path.hasSuffix("greeter-1.2.0-20261202.060000-2.jar")
                                        && $0.reason.contains("another build") })

        // Without the metadata the highest build that has a pom wins (build 3 has none).
        try FileManager.default.removeItem(atPath: layout.directory.file("\(dir)/maven-metadata.xml"))
        scan = try RepositoryScanner(root: layout.root).scan()
        version = try #require(scan.versions.first)
        guard case .timestamped(let chosen) = version.snapshotNaming else { Issue.record("not timestamped"); return }
        #expect(chosen.buildNumber == 2)
        #expect(ChecksumVerifier.verify(version) == [])
    }

    @Test func localRepositoryPlainSnapshotsWithMavensBookkeepingFiles() throws {
        let layout = try LayoutWriter()
        defer { layout.directory.remove() }
        let dir = "org/acme/lib/2.0-SNAPSHOT"
        try layout.put("\(dir)/lib-2.0-SNAPSHOT.jar", "jar")
        try layout.put("\(dir)/lib-2.0-SNAPSHOT.pom", LayoutWriter.pom("org.acme", "lib", "2.0-SNAPSHOT"))
        try layout.put("\(dir)/lib-2.0-20261201.101010-4.jar", "jar")
        try layout.put("\(dir)/lib-2.0-20261201.101010-4.jar.sha512", "x")
        try layout.put("\(dir)/lib-2.0-20261201.101010-4.pom", LayoutWriter.pom("org.acme", "lib", "2.0-SNAPSHOT"))
        for name in ["_remote.repositories", "maven-metadata-local.xml", "maven-metadata-central.xml.sha512",
                     "resolver-status.properties", "lib-2.0-SNAPSHOT-tests.jar.lastUpdated", ".DS_Store"] {
            try layout.put("\(dir)/\(name)", "state")
        }
        try layout.put("org/acme/lib/maven-metadata-local.xml", "<metadata/>")
        let scan = try RepositoryScanner(root: layout.root).scan()
        #expect(scan.problems == [])
        let version = try #require(scan.versions.first)
        #expect(version.snapshotNaming == .plain)
        #expect(version.isSnapshot)
        #expect(version.files.map(\.name) == ["lib-2.0-SNAPSHOT.jar", "lib-2.0-SNAPSHOT.pom"])
        #expect(scan.ignored.count == 10)
        #expect(scan.ignored.contains { $0.path.hasSuffix("lib-2.0-20261201.101010-4.jar.sha512")
                                        && $0.reason == "checksum of a file not published" })
    }

    @Test func problemsNameTheFileAndSayWhatToDo() throws {
        let layout = try LayoutWriter()
        defer { layout.directory.remove() }
        try layout.put("com/example/wronggroup/1.0/wronggroup-1.0.pom", LayoutWriter.pom("org.other", "wronggroup", "1.0"))
        try layout.put("com/example/wronggroup/1.0/wronggroup-1.0.jar", "jar")
        try layout.put("com/example/wrongversion/1.0/wrongversion-1.0.pom", LayoutWriter.pom("com.example", "wrongversion", "1.1"))
        try layout.put("com/example/nojar/1.0/nojar-1.0.pom", LayoutWriter.pom("com.example", "nojar", "1.0"))
        try layout.put("com/example/stray/1.0/stray-1.0.pom", LayoutWriter.pom("com.example", "stray", "1.0", packaging: "pom"))
        try layout.put("com/example/stray/1.0/notes.txt", "hello")
        try layout.put("com/example/nopom/1.0/nopom-1.0.jar", "jar")
        try layout.put("com/example/broken/1.0/broken-1.0.pom", "<project><groupId>")
        try layout.put("com/example/good/1.0/good-1.0.pom", LayoutWriter.pom("com.example", "good", "1.0", packaging: "pom"))
        try layout.put("com/example/badclassifier/1.0/badclassifier-1.0.pom",
                       LayoutWriter.pom("com.example", "badclassifier", "1.0", packaging: "pom"))
        try layout.put("com/example/badclassifier/1.0/badclassifier-1.0-so+urces.jar", "x")

        let scan = try RepositoryScanner(root: layout.root).scan()
        #expect(scan.versions.map(\.artifactId) == ["badclassifier", "good", "stray"])
        let byFile = Dictionary(grouping: scan.problems) { ($0.path as NSString).lastPathComponent }
        #expect(byFile.keys.sorted() == ["1.0", "badclassifier-1.0-so+urces.jar", "broken-1.0.pom", "nojar-1.0.pom",
                                         "notes.txt", "wronggroup-1.0.pom", "wrongversion-1.0.pom"])
        #expect(byFile["wronggroup-1.0.pom"]?.first?.message.contains("says groupId 'org.other'") == true)
        #expect(byFile["wrongversion-1.0.pom"]?.first?.message.contains("says version '1.1'") == true)
        #expect(byFile["nojar-1.0.pom"]?.first?.message.contains("nojar-1.0.jar is missing") == true)
        #expect(byFile["notes.txt"]?.first?.message.contains("is not a file of stray 1.0") == true)
        #expect(byFile["1.0"]?.first?.path.hasSuffix("com/example/nopom/1.0") == true)
        #expect(byFile["broken-1.0.pom"]?.first?.message.contains("is not valid xml") == true)
        #expect(byFile["badclassifier-1.0-so+urces.jar"]?.first?.message.contains("classifier 'so+urces'") == true)
        for problem in scan.problems {
            #expect(problem.description.hasPrefix(layout.root), "\(problem)")
            #expect(!problem.description.contains("\n"))
        }
    }

    @Test func subtreesAndVersionDirectoriesCanBeScanned() throws {
        let layout = try LayoutWriter()
        defer { layout.directory.remove() }
        try layout.release("1.0.0")
        try layout.release("3.0", group: "org/other", artifact: "thing")
        let subtree = try RepositoryScanner(root: layout.directory.file("com/example")).scan()
        #expect(subtree.problems == [])
        #expect(subtree.versions.map(\.description) == ["com.example.tools:greeter:1.0.0"])
        let single = try RepositoryScanner(root: layout.directory.file("org/other/thing/3.0/")).scan()
        #expect(single.versions.map(\.description) == ["org.other:thing:3.0"])
        #expect(single.root == layout.directory.file("org/other/thing/3.0"))
    }

    @Test func filtersSelectByGroupArtifactAndVersion() throws {
        let layout = try LayoutWriter()
        defer { layout.directory.remove() }
        for version in ["1.0.0", "1.1.0", "2.0.0"] { try layout.release(version) }
        try layout.release("1.0.0", group: "org/other", artifact: "thing")
        try layout.put("org/other/broken/1.0/broken-1.0.pom", "<project>")
        func scanned(_ filter: ArtifactFilter) throws -> [String] {
            try RepositoryScanner(root: layout.root, filter: filter).scan().versions.map(\.description)
        }
        #expect(try scanned(ArtifactFilter(groupId: "com.example.*")).count == 3)
        #expect(try scanned(ArtifactFilter(artifactId: "thing")) == ["org.other:thing:1.0.0"])
        #expect(try scanned(ArtifactFilter(version: "1.*")) == ["com.example.tools:greeter:1.0.0",
                                                                "com.example.tools:greeter:1.1.0", "org.other:thing:1.0.0"])
        #expect(try scanned(ArtifactFilter(groupId: "com.example.tools", version: "2.0.0")) == ["com.example.tools:greeter:2.0.0"])
        // A version filtered out reports no problems of its own.
        #expect(try RepositoryScanner(root: layout.root, filter: ArtifactFilter(artifactId: "greeter")).scan().problems == [])
    }

    @Test func checksumFilesThatDisagreeAreProblemsNamingThem() throws {
        let layout = try LayoutWriter()
        defer { layout.directory.remove() }
        try layout.release("1.0.0")
        let dir = layout.directory.file("com/example/tools/greeter/1.0.0")
        try Data("0000000000000000000000000000000000000000".utf8).write(to: URL(fileURLWithPath: "\(dir)/greeter-1.0.0.jar.sha1"))
        try Data("not a digest\n".utf8).write(to: URL(fileURLWithPath: "\(dir)/greeter-1.0.0.jar.md5"))
        let sources = MavenChecksums.of(Array("sources 1.0.0".utf8))
        try Data("\(sources.sha256.uppercased())  greeter-1.0.0-sources.jar\n".utf8)
            .write(to: URL(fileURLWithPath: "\(dir)/greeter-1.0.0-sources.jar.sha256"))
        let scan = try RepositoryScanner(root: layout.root).scan()
        let problems = ChecksumVerifier.verify(scan)
        #expect(problems.map { ($0.path as NSString).lastPathComponent } == ["greeter-1.0.0.jar.md5", "greeter-1.0.0.jar.sha1"])
        try #require(problems.count == 2)
        let jar = MavenChecksums.of(Array("jar 1.0.0".utf8))
        #expect(problems[1].message.hasPrefix("says 0000000000000000000000000000000000000000 but greeter-1.0.0.jar has sha1 \(jar.sha1)"))
        #expect(problems[0].message.contains("not a md5 digest"))
    }

    @Test func aMissingRootIsAnError() throws {
        #expect(throws: LayoutError.self) { try RepositoryScanner(root: "/nonexistent/staging").scan() }
        let layout = try LayoutWriter()
        defer { layout.directory.remove() }
        try layout.put("file.txt", "x")
        #expect(throws: LayoutError.self) { try RepositoryScanner(root: layout.directory.file("file.txt")).scan() }
        let scan = try RepositoryScanner(root: layout.root).scan()
        #expect(scan.versions.isEmpty)
        #expect(scan.problems.count == 1)
    }
}
