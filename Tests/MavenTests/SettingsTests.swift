import Foundation
import Maven
import Testing
import TestSupport

@Suite struct SettingsTests {
    static func write(_ xml: String) throws -> (TempDirectory, String) {
        let directory = try TempDirectory.create(prefix: "settings")
        return (directory, try directory.write("settings.xml", xml))
    }

    static let sample = """
        <?xml version="1.0" encoding="UTF-8"?>
        <settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">
          <localRepository>${env.NOT_NEEDED}/repo</localRepository>
          <servers>
            <server>
              <id>github</id>
              <username>  octocat </username>
              <password>${env.GH_TOKEN}</password>
            </server>
            <server><id>plain</id><username>me</username><password> p@ss{word} </password></server>
            <server><id>prefixed</id><username>${env.USER_NAME}</username><password>tok-${env.GH_TOKEN}-end</password></server>
            <server><id>encrypted</id><username>me</username><password>{COQLCE6DU6GtcS5P=}</password></server>
            <server><id>noted</id><password>Oleg reset this password {jSMOWnoPFgsHVpMvz5VrIt5kRbzGpI8u+9EF1iFQyJQ=}</password></server>
            <server><id>property</id><password>${github.token}</password></server>
            <server><id>missing</id><username>me</username><password>${env.NOT_SET_ANYWHERE}</password></server>
            <server><id>github</id><username>second</username></server>
          </servers>
        </settings>
        """

    @Test func serversAreFoundByIdWithEnvironmentInterpolated() throws {
        let (directory, path) = try Self.write(Self.sample)
        defer { directory.remove() }
        let settings = try MavenSettings.load(path: path, environment: ["GH_TOKEN": "ghp_abc", "USER_NAME": "bot"])
        #expect(settings.path == path)
        #expect(settings.serverIDs == ["github", "plain", "prefixed", "encrypted", "noted", "property", "missing"])
        #expect(try settings.server(id: "github") == .init(id: "github", username: "octocat", password: "ghp_abc"))
        #expect(try settings.server(id: "plain") == .init(id: "plain", username: "me", password: "p@ss{word}"))
        #expect(try settings.server(id: "prefixed") == .init(id: "prefixed", username: "bot", password: "tok-ghp_abc-end"))
        #expect(try settings.server(id: "GitHub") == nil)
        #expect(try settings.server(id: "absent") == nil)
        #expect(!String(describing: try settings.server(id: "github")!).contains("ghp_abc"))
    }

    @Test func unusableValuesAreErrorsForTheServerAskedFor() throws {
        let (directory, path) = try Self.write(Self.sample)
        defer { directory.remove() }
        let settings = try MavenSettings.load(path: path, environment: [:])
        #expect(throws: SettingsError.missingVariable(path: path, serverID: "github", field: "password", name: "GH_TOKEN")) {
            try settings.server(id: "github")
        }
        #expect(SettingsError.missingVariable(path: path, serverID: "github", field: "password", name: "GH_TOKEN")
            .description.contains("export GH_TOKEN"))
        for id in ["encrypted", "noted"] {
            do {
                _ = try settings.server(id: id)
                Issue.record("encrypted password of \(id) accepted")
            } catch {
                #expect(error == .encryptedPassword(path: path, serverID: id))
                #expect(error.description.contains("GITHUB_TOKEN"))
                #expect(error.description.contains(path))
            }
        }
        #expect(throws: SettingsError.unsupportedExpression(path: path, serverID: "property", field: "password",
                                                            expression: "${github.token}")) {
            try settings.server(id: "property")
        }
    }

    @Test func fileProblemsNameTheFile() throws {
        let (directory, path) = try Self.write("<settings><servers><server><username>x</username></server></servers></settings>")
        defer { directory.remove() }
        #expect(throws: SettingsError.serverWithoutID(path: path, position: 1)) {
            try MavenSettings.load(path: path, environment: [:])
        }
        try directory.write("settings.xml", "<settings><servers>")
        #expect(throws: SettingsError.self) { try MavenSettings.load(path: path, environment: [:]) }
        try directory.write("settings.xml", "<project/>")
        #expect(throws: SettingsError.malformed(path: path, reason: "the root element is <project>, not <settings>")) {
            try MavenSettings.load(path: path, environment: [:])
        }
        let missing = directory.file("nope.xml")
        #expect(throws: SettingsError.missingFile(path: missing)) { try MavenSettings.load(path: missing, environment: [:]) }
        #expect(try MavenSettings.loadDefault(environment: ["HOME": directory.path]) == nil)
        try directory.makeSubdirectory(".m2")
        try directory.write(".m2/settings.xml", "<settings/>")
        #expect(try MavenSettings.loadDefault(environment: ["HOME": directory.path])?.serverIDs == [])
    }

    @Test func idMismatchIsExplainedInOneLineWithTheRemedy() throws {
        let (directory, path) = try Self.write(Self.sample)
        defer { directory.remove() }
        let settings = try MavenSettings.load(path: path, environment: [:])
        #expect(ServerIDMismatch.explain(repositoryID: "github", source: .pom(path: "pom.xml", snapshot: false),
                                         settings: settings, settingsPath: path) == nil)
        let two = try MavenSettings.parse(Data("<settings><servers><server><id>a</id></server><server><id>b</id></server></servers></settings>".utf8),
                                          path: path)
        let line = try #require(ServerIDMismatch.explain(repositoryID: "github", source: .pom(path: "/w/pom.xml", snapshot: false),
                                                         settings: two, settingsPath: path))
        #expect(line == "settings file \(path) has servers [a, b] but the pom's distributionManagement repository id is "
                + "'github' (/w/pom.xml); add <server><id>github</id><username>USER</username>"
                + "<password>${env.GITHUB_TOKEN}</password></server> or pass --id")
        let one = try MavenSettings.parse(Data("<settings><servers><server><id>GitHub</id></server></servers></settings>".utf8),
                                          path: path)
        let nearly = try #require(ServerIDMismatch.explain(repositoryID: "github", source: .pom(path: "p", snapshot: true),
                                                           settings: one, settingsPath: path, idOption: "--repository-id"))
        #expect(nearly.contains("snapshotRepository id is 'github'"))
        #expect(nearly.contains("rename 'GitHub' to 'github'"))
        #expect(nearly.hasSuffix("or pass --repository-id GitHub"))
        let none = try #require(ServerIDMismatch.explain(repositoryID: "github", source: .option("--id"), settings: nil,
                                                         settingsPath: "/root/.m2/settings.xml"))
        #expect(none.hasPrefix("settings file /root/.m2/settings.xml does not exist, but --id is 'github'"))
        for message in [line, nearly, none] { #expect(!message.contains("\n")) }
    }
}
