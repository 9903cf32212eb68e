import Foundation
import Maven
import Testing

@Suite struct MetadataTests {
    static let date = SnapshotVersionTests.date

    @Test func firstDeployWritesWhatMavenWrites() throws {
        let document = try ArtifactMetadata.afterPublishing(["1.0.0"], groupId: "com.example.tools", artifactId: "greeter",
                                                            remote: nil, at: Self.date, source: "test")
        #expect(document.render() == """
            <?xml version="1.0" encoding="UTF-8"?>
            <metadata>
              <groupId>com.example.tools</groupId>
              <artifactId>greeter</artifactId>
              <versioning>
                <release>1.0.0</release>
                <versions>
                  <version>1.0.0</version>
                </versions>
                <lastUpdated>20261202050146</lastUpdated>
              </versioning>
            </metadata>

            """)
    }

    @Test func mergingKeepsRemoteVersionsAndOrderAndAppendsNewOnes() throws {
        let remoteXML = """
            <?xml version="1.0" encoding="UTF-8"?>
            <metadata xmlns="http://maven.apache.org/METADATA/1.1.0">
              <groupId>com.example.tools</groupId>
              <artifactId>greeter</artifactId>
              <versioning>
                <latest>0.9.0</latest>
                <release>0.9.0</release>
                <versions>
                  <version>0.9.0</version>
                  <version>0.1.0</version>
                  <version>1.2.0-SNAPSHOT</version>
                </versions>
                <lastUpdated>20250101000000</lastUpdated>
              </versioning>
            </metadata>
            """
        let remote = try ArtifactMetadata.parse(Data(remoteXML.utf8), source: "https://example/maven-metadata.xml")
        #expect(remote.versions == ["0.9.0", "0.1.0", "1.2.0-SNAPSHOT"])
        #expect(remote.latest == "0.9.0")

        let merged = try ArtifactMetadata.afterPublishing(["1.0.0", "1.2.0-20261202.050146-3", "0.1.0"],
                                                          groupId: "com.example.tools", artifactId: "greeter",
                                                          remote: remote, at: Self.date, source: "test")
        #expect(merged.versions == ["0.9.0", "0.1.0", "1.2.0-SNAPSHOT", "1.0.0"])
        #expect(merged.release == "0.1.0")  // the last release deployed, as Maven's deploy sets it
        #expect(merged.latest == "0.9.0")   // never touched, as in Maven 3.8
        #expect(merged.lastUpdated == "20261202050146")
        let reparsed = try ArtifactMetadata.parse(Data(merged.render().utf8), source: "rendered")
        #expect(reparsed == merged)

        let ours = ArtifactMetadata(groupId: "com.example.tools", artifactId: "greeter", release: "2.0.0",
                                    versions: ["2.0.0", "0.9.0"], lastUpdated: "20261202050146")
        let combined = try ours.merged(into: remote, source: "remote")
        #expect(combined.versions == ["0.9.0", "0.1.0", "1.2.0-SNAPSHOT", "2.0.0"])
        #expect(combined.release == "2.0.0")
    }

    @Test func snapshotOnlyDeployAddsTheBaseVersionWithoutRelease() throws {
        let document = try ArtifactMetadata.afterPublishing(["1.2.0-SNAPSHOT"], groupId: "g", artifactId: "a",
                                                            remote: nil, at: Self.date, source: "test")
        #expect(document.release == nil)
        #expect(document.versions == ["1.2.0-SNAPSHOT"])
        #expect(!document.render().contains("<release>"))
    }

    @Test func badDocumentsAreRefusedWithTheirSourceNamed() {
        let source = "https://maven.pkg.github.com/acme/tools/com/example/greeter/maven-metadata.xml"
        #expect(throws: MetadataError.missingElement(source: source, element: "artifactId")) {
            try ArtifactMetadata.parse(Data("<metadata><groupId>g</groupId></metadata>".utf8), source: source)
        }
        do {
            _ = try ArtifactMetadata.parse(Data("<metadata><groupId>g</groupId>".utf8), source: source)
            Issue.record("truncated xml accepted")
        } catch {
            guard case .malformed(let named, _) = error else { Issue.record("\(error)"); return }
            #expect(named == source)
            #expect(error.description.hasPrefix("maven metadata \(source) is not valid"))
        }
        #expect(throws: MetadataError.self) {
            try ArtifactMetadata.parse(Data("<html><body>login</body></html>".utf8), source: source)
        }
        let other = ArtifactMetadata(groupId: "g", artifactId: "other")
        #expect(throws: MetadataError.otherArtifact(source: source, expected: "g:a", found: "g:other")) {
            try ArtifactMetadata.afterPublishing(["1.0"], groupId: "g", artifactId: "a", remote: other, at: Self.date,
                                                 source: source)
        }
    }

    @Test func snapshotMetadataRendersInMavensOrderAndRoundTrips() throws {
        let build = try #require(SnapshotVersion(baseVersion: "1.2.0-SNAPSHOT", timestamp: "20261202.050146", buildNumber: 2))
        let metadata = SnapshotMetadata(groupId: "com.example.tools", artifactId: "greeter", build: build,
                                        files: [(nil, "jar"), (nil, "pom"), ("sources", "jar"), (nil, "jar")],
                                        at: Self.date)
        #expect(metadata.render() == """
            <?xml version="1.0" encoding="UTF-8"?>
            <metadata modelVersion="1.1.0">
              <groupId>com.example.tools</groupId>
              <artifactId>greeter</artifactId>
              <versioning>
                <lastUpdated>20261202050146</lastUpdated>
                <snapshot>
                  <timestamp>20261202.050146</timestamp>
                  <buildNumber>2</buildNumber>
                </snapshot>
                <snapshotVersions>
                  <snapshotVersion>
                    <extension>jar</extension>
                    <value>1.2.0-20261202.050146-2</value>
                    <updated>20261202050146</updated>
                  </snapshotVersion>
                  <snapshotVersion>
                    <extension>pom</extension>
                    <value>1.2.0-20261202.050146-2</value>
                    <updated>20261202050146</updated>
                  </snapshotVersion>
                  <snapshotVersion>
                    <classifier>sources</classifier>
                    <extension>jar</extension>
                    <value>1.2.0-20261202.050146-2</value>
                    <updated>20261202050146</updated>
                  </snapshotVersion>
                </snapshotVersions>
              </versioning>
              <version>1.2.0-SNAPSHOT</version>
            </metadata>

            """)
        let reparsed = try SnapshotMetadata.parse(Data(metadata.render().utf8), source: "rendered")
        #expect(reparsed == metadata)
        #expect(reparsed.entry(classifier: "sources", fileExtension: "jar")?.value == "1.2.0-20261202.050146-2")
    }

    @Test func snapshotMergeKeepsRemoteEntriesThisBuildLacks() throws {
        let older = try #require(SnapshotVersion(baseVersion: "1.2.0-SNAPSHOT", timestamp: "20261201.000000", buildNumber: 1))
        let newer = try #require(SnapshotVersion(baseVersion: "1.2.0-SNAPSHOT", timestamp: "20261202.050146", buildNumber: 2))
        let remote = SnapshotMetadata(groupId: "g", artifactId: "a", build: older,
                                      files: [(nil, "jar"), (nil, "pom"), ("javadoc", "jar")], at: Self.date)
        let ours = SnapshotMetadata(groupId: "g", artifactId: "a", build: newer, files: [(nil, "jar"), (nil, "pom")],
                                    at: Self.date)
        let merged = try ours.merged(into: remote, source: "remote")
        #expect(merged.snapshot?.buildNumber == 2)
        #expect(merged.snapshotVersions.map(\.value) == [newer.value, newer.value, older.value])
        #expect(merged.entry(classifier: "javadoc", fileExtension: "jar")?.value == older.value)
        let elsewhere = SnapshotMetadata(groupId: "g", artifactId: "a", version: "1.3.0-SNAPSHOT")
        #expect(throws: MetadataError.self) { try ours.merged(into: elsewhere, source: "remote") }
        #expect(throws: MetadataError.invalidValue(source: "x", element: "buildNumber", value: "two")) {
            try SnapshotMetadata.parse(Data("""
                <metadata><groupId>g</groupId><artifactId>a</artifactId><version>1-SNAPSHOT</version>
                <versioning><snapshot><buildNumber>two</buildNumber></snapshot></versioning></metadata>
                """.utf8), source: "x")
        }
    }
}
