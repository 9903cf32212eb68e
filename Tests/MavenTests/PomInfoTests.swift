import Foundation
import Maven
import Testing
import TestSupport

@Suite struct PomInfoTests {
    @Test func readsCoordinatesWithParentFallbackAndDistributionManagement() throws {
        let directory = try TempDirectory.create(prefix: "pom")
        defer { directory.remove() }
        let path = try directory.write("greeter-1.1.0.pom", """
            <?xml version="1.0" encoding="UTF-8"?>
            <project xmlns="http://maven.apache.org/POM/4.0.0">
              <modelVersion>4.0.0</modelVersion>
              <parent>
                <groupId>com.example</groupId>
                <artifactId>parent</artifactId>
                <version>1.1.0</version>
              </parent>
              <artifactId>greeter</artifactId>
              <packaging>maven-plugin</packaging>
              <properties><github.owner>acme</github.owner><repo.id>github</repo.id></properties>
              <distributionManagement>
                <repository><id>${repo.id}</id><url>https://maven.pkg.github.com/${github.owner}/tools</url></repository>
                <snapshotRepository><id>github-snapshots</id><url>https://maven.pkg.github.com/acme/snapshots</url></snapshotRepository>
              </distributionManagement>
            </project>
            """)
        let pom = try PomInfo.read(path: path)
        #expect(pom.path == path)
        #expect(pom.groupId == "com.example")
        #expect(pom.artifactId == "greeter")
        #expect(pom.version == "1.1.0")
        #expect(pom.packaging == "maven-plugin")
        #expect(pom.mainArtifactExtension == "jar")
        #expect(pom.parent == PomInfo.Parent(groupId: "com.example", artifactId: "parent", version: "1.1.0"))
        #expect(pom.repository == PomInfo.DeploymentRepository(id: "github", url: "https://maven.pkg.github.com/acme/tools"))
        #expect(pom.snapshotRepository?.id == "github-snapshots")
        #expect(pom.deploymentRepository?.id == "github")
    }

    @Test func ownValuesWinOverTheParentAndSnapshotsPickTheSnapshotRepository() throws {
        let pom = try PomInfo.parse(Data("""
            <project>
              <parent><groupId>org.parent</groupId><version>9</version></parent>
              <groupId>org.own</groupId><artifactId>lib</artifactId><version>${project.parent.version}.1-SNAPSHOT</version>
              <packaging>pom</packaging>
              <distributionManagement>
                <repository><id>releases</id></repository>
                <snapshotRepository><id>snapshots</id></snapshotRepository>
              </distributionManagement>
            </project>
            """.utf8), path: "lib.pom")
        #expect(pom.groupId == "org.own")
        #expect(pom.version == "9.1-SNAPSHOT")
        #expect(pom.mainArtifactExtension == nil)
        #expect(pom.deploymentRepository?.id == "snapshots")
        let plain = try PomInfo.parse(Data("<project><groupId>g</groupId><artifactId>a</artifactId><version>1</version></project>".utf8),
                                      path: "a.pom")
        #expect(plain.packaging == "jar")
        #expect(plain.repository == nil)
        #expect(plain.deploymentRepository == nil)
    }

    @Test func problemsNameTheFile() throws {
        #expect(throws: PomError.missing(path: "x.pom", element: "version")) {
            try PomInfo.parse(Data("<project><groupId>g</groupId><artifactId>a</artifactId></project>".utf8), path: "x.pom")
        }
        #expect(PomError.missing(path: "x.pom", element: "version").description
                == "pom x.pom has no <version> (nor in <parent>); add it to the pom")
        #expect(throws: PomError.missing(path: "x.pom", element: "artifactId")) {
            try PomInfo.parse(Data("<project><groupId>g</groupId></project>".utf8), path: "x.pom")
        }
        #expect(throws: PomError.malformed(path: "x.pom", reason: "the root element is <settings>, not <project>")) {
            try PomInfo.parse(Data("<settings/>".utf8), path: "x.pom")
        }
        do {
            _ = try PomInfo.parse(Data("<project><groupId>g</groupId>".utf8), path: "broken.pom")
            Issue.record("truncated pom accepted")
        } catch {
            #expect(error.path == "broken.pom")
            #expect(error.description.hasPrefix("pom broken.pom is not valid xml: "))
        }
        #expect(throws: PomError.self) { try PomInfo.read(path: "/nonexistent/a.pom") }
    }

    @Test func unresolvedPropertiesStayVisible() throws {
        let pom = try PomInfo.parse(Data("""
            <project><groupId>g</groupId><artifactId>a</artifactId><version>${revision}</version></project>
            """.utf8), path: "a.pom")
        #expect(pom.version == "${revision}")
    }
}
