import Maven
import Testing

@Suite struct CoordinatesTests {
    @Test func pathsAndNamesFollowTheMavenLayout() throws {
        let sources = try MavenCoordinates(groupId: "com.example.tools", artifactId: "greeter", version: "1.0.0",
                                           classifier: "sources", fileExtension: "jar")
        #expect(sources.groupPath == "com/example/tools")
        #expect(sources.artifactPath == "com/example/tools/greeter")
        #expect(sources.gavPath == "com/example/tools/greeter/1.0.0")
        #expect(sources.fileName == "greeter-1.0.0-sources.jar")
        #expect(sources.path == "com/example/tools/greeter/1.0.0/greeter-1.0.0-sources.jar")
        #expect(sources.description == "com.example.tools:greeter:jar:sources:1.0.0")
        #expect(!sources.isSnapshot)
        #expect(sources.baseVersion == "1.0.0")

        let pom = try sources.file(classifier: nil, fileExtension: "pom")
        #expect(pom.fileName == "greeter-1.0.0.pom")
    }

    @Test func timestampedSnapshotsLiveInTheBaseVersionDirectory() throws {
        let build = try MavenCoordinates(groupId: "com.example", artifactId: "greeter", version: "1.2.0-20261202.050146-2")
        #expect(build.isSnapshot)
        #expect(build.baseVersion == "1.2.0-SNAPSHOT")
        #expect(build.gavPath == "com/example/greeter/1.2.0-SNAPSHOT")
        #expect(build.fileName == "greeter-1.2.0-20261202.050146-2.jar")
        let plain = try MavenCoordinates(groupId: "com.example", artifactId: "greeter", version: "1.2.0-SNAPSHOT")
        #expect(plain.isSnapshot)
        #expect(plain.baseVersion == "1.2.0-SNAPSHOT")
    }

    @Test func invalidPartsAreRefusedWithTheFieldAndValueNamed() {
        #expect(throws: CoordinatesError(field: "groupId", value: "com example",
                                         reason: "contains a space or control character (U+20); use letters, digits, '.', '-' and '_' only")) {
            try MavenCoordinates(groupId: "com example", artifactId: "greeter", version: "1.0.0")
        }
        let cases: [(String, String, String, String?, String, String)] = [
            ("", "greeter", "1.0.0", nil, "jar", "groupId"),
            ("com..example", "greeter", "1.0.0", nil, "jar", "groupId"),
            ("com.example", "greet/er", "1.0.0", nil, "jar", "artifactId"),
            ("com.example", "greeter", "1.0:0", nil, "jar", "version"),
            ("com.example", "greeter", "${revision}", nil, "jar", "version"),
            ("com.example", "greeter", "..", nil, "jar", "version"),
            ("com.example", "greeter", "1.0.0", "", "jar", "classifier"),
            ("com.example", "greeter", "1.0.0", nil, ".jar", "extension"),
            ("com.example", "greeter", "1.0.0", nil, "", "extension"),
        ]
        for (group, artifact, version, classifier, fileExtension, field) in cases {
            do {
                _ = try MavenCoordinates(groupId: group, artifactId: artifact, version: version, classifier: classifier,
                                         fileExtension: fileExtension)
                Issue.record("accepted \(group):\(artifact):\(version)")
            } catch {
                #expect(error.field == field)
                #expect(error.description.hasPrefix("\(field) '"))
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test func gitHubPackagesRefusesUppercaseArtifactIdsAndOwners() throws {
        let upper = try MavenCoordinates(groupId: "com.Example", artifactId: "Greeter", version: "1.0.0")
        #expect(throws: GitHubPackagesError.uppercaseArtifactId(coordinates: upper)) {
            try GitHubPackagesRules.check(upper)
        }
        #expect(GitHubPackagesError.uppercaseArtifactId(coordinates: upper).description.contains("use 'greeter'"))
        try GitHubPackagesRules.check(MavenCoordinates(groupId: "com.Example", artifactId: "greeter", version: "1.0.0"))

        let repository = try #require(try GitHubPackagesRules.repository(fromURL: "https://maven.pkg.github.com/acme/tools/"))
        #expect(repository.owner == "acme")
        #expect(repository.repository == "tools")
        #expect(repository.url == "https://maven.pkg.github.com/acme/tools")
        #expect(try GitHubPackagesRules.repository(fromURL: "http://127.0.0.1:8080/repo") == nil)

        do {
            _ = try GitHubPackagesRules.repository(fromURL: "https://maven.pkg.github.com/Acme/tools")
            Issue.record("uppercase owner accepted")
        } catch {
            #expect(error == .uppercaseOwner(url: "https://maven.pkg.github.com/Acme/tools", owner: "Acme"))
            #expect(error.description.contains("422"))
            #expect(error.description.hasSuffix("use https://maven.pkg.github.com/acme/tools"))
        }
        #expect(throws: GitHubPackagesError.notARepositoryURL(url: "https://maven.pkg.github.com/acme")) {
            try GitHubPackagesRules.repository(fromURL: "https://maven.pkg.github.com/acme")
        }
        #expect(throws: GitHubPackagesError.notHTTPS(url: "http://maven.pkg.github.com/acme/tools")) {
            try GitHubPackagesRules.repository(fromURL: "http://maven.pkg.github.com/acme/tools")
        }
    }

    @Test func versionOrderIsMavens() {
        let shuffled = ["1.10", "1.0-SNAPSHOT", "1.0-sp1", "1.0", "1.2", "1.0-alpha-1", "1.0-rc1", "1.0-beta", "1.0.1",
                        "2.0-foo"]
        let sorted = shuffled.sorted(by: MavenVersionOrder.areInIncreasingOrder)
        #expect(sorted == ["1.0-alpha-1", "1.0-beta", "1.0-rc1", "1.0-SNAPSHOT", "1.0", "1.0-sp1", "1.0.1", "1.2", "1.10",
                           "2.0-foo"])
        #expect(MavenVersionOrder.compare("1.0", "1.0.0") == .orderedSame)
        #expect(MavenVersionOrder.compare("1.0-final", "1") == .orderedSame)
        #expect(MavenVersionOrder.compare("1.0.0-SNAPSHOT", "1.0.0") == .orderedAscending)
        #expect(MavenVersionOrder.compare("2.0-foo", "2.0-bar") == .orderedDescending)
    }

    @Test func fileNamesSplitIntoClassifierAndExtension() throws {
        func parse(_ name: String, _ version: String = "1.0.0") -> ArtifactFileName? {
            ArtifactFileName.parse(name, artifactId: "greeter", version: version)
        }
        #expect(parse("greeter-1.0.0.jar") == ArtifactFileName(classifier: nil, fileExtension: "jar", build: nil))
        #expect(parse("greeter-1.0.0.jar.asc") == ArtifactFileName(classifier: nil, fileExtension: "jar.asc", build: nil))
        #expect(parse("greeter-1.0.0-sources.jar") == ArtifactFileName(classifier: "sources", fileExtension: "jar", build: nil))
        #expect(parse("greeter-1.0.0-dist.tar.gz") == ArtifactFileName(classifier: "dist", fileExtension: "tar.gz", build: nil))
        #expect(parse("greeter-1.0.0") == nil)
        #expect(parse("greeter-1.0.0-.jar") == nil)
        #expect(parse("other-1.0.0.jar") == nil)
        #expect(parse("greeter-1.0.1.jar", "1.0") == nil)

        let build = try #require(SnapshotVersion(baseVersion: "1.1.0-SNAPSHOT", timestamp: "20261202.050146", buildNumber: 2))
        let timestamped = try #require(parse("greeter-1.1.0-20261202.050146-2-javadoc.jar", "1.1.0-SNAPSHOT"))
        #expect(timestamped == ArtifactFileName(classifier: "javadoc", fileExtension: "jar", build: build))
        #expect(timestamped.fileName(artifactId: "greeter", version: "1.1.0-SNAPSHOT") == "greeter-1.1.0-20261202.050146-2-javadoc.jar")
        #expect(parse("greeter-1.1.0-SNAPSHOT.pom", "1.1.0-SNAPSHOT") == ArtifactFileName(classifier: nil, fileExtension: "pom", build: nil))
        #expect(parse("greeter-1.1.0-2026120.050146-2.jar", "1.1.0-SNAPSHOT") == nil)
        #expect(parse("greeter-1.1.0-20261202.050146-0.jar", "1.1.0-SNAPSHOT") == nil)
    }
}
