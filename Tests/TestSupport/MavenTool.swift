import Foundation

/// One finished `mvn` run: how it ended, what it printed and how long it took (JVM start included).
public struct MavenRun: Sendable, CustomStringConvertible {
    public let arguments: [String]
    public let result: ChildResult
    public let duration: Duration

    public var succeeded: Bool { result.succeeded }
    /// Standard output and standard error together.
    public var output: String { result.stdout + result.stderr }

    public var description: String { "mvn \(arguments.joined(separator: " ")) (\(duration))\n\(result)" }
}

/// Debian's Maven 3.8 (`mvn`), run offline against the plugins in `/usr/share/maven-repo`.
///
/// That repository has no checksums and no metadata, so plugins are named by their full coordinates and the
/// settings mirror `central` to it (see `MavenTestSettings`). Every run is in batch mode with the JVM told to
/// start fast (C1 only, serial GC): about 1.2 s for a `deploy-file` to a `file:` repository instead of 1.6-2 s.
public enum MavenTool {
    /// The deploy plugin Debian ships (libmaven-deploy-plugin-java).
    public static let deployFile = "org.apache.maven.plugins:maven-deploy-plugin:3.0.0:deploy-file"
    /// The dependency plugin Debian ships (libmaven-dependency-plugin-java; needs junit4).
    public static let dependencyGet = "org.apache.maven.plugins:maven-dependency-plugin:3.5.0:get"
    /// Debian's plugin repository, mirrored as `central`.
    public static let debianRepository = "/usr/share/maven-repo"
    /// The resolver's names of the checksums the tests make Maven write and check, strongest first.
    public static let allChecksumAlgorithms = ["SHA-512", "SHA-256", "SHA-1", "MD5"]
    /// `MAVEN_OPTS` for every run; `$STEVEDORE_MAVEN_OPTS` replaces it.
    public static var javaOptions: String {
        ProcessInfo.processInfo.environment["STEVEDORE_MAVEN_OPTS"] ?? "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto"
    }

    /// `$STEVEDORE_MVN` or `mvn` on PATH, after checking that Debian's plugins are installed.
    public static func executable() throws -> String {
        let mvn: String
        if let explicit = ProcessInfo.processInfo.environment["STEVEDORE_MVN"] {
            mvn = explicit
        } else {
            do {
                mvn = try ChildProcess.resolve("mvn")
            } catch {
                throw TestSupportError("mvn is missing: install the maven package (make deps)")
            }
        }
        for (plugin, package) in [("maven-deploy-plugin/3.0.0", "libmaven-deploy-plugin-java"),
                                  ("maven-dependency-plugin/3.5.0", "libmaven-dependency-plugin-java")] {
            let directory = "\(debianRepository)/org/apache/maven/plugins/\(plugin)"
            guard FileManager.default.fileExists(atPath: directory) else {
                throw TestSupportError("\(directory) is missing: install \(package) (make deps)")
            }
        }
        return mvn
    }

    /// Runs `mvn -B -s SETTINGS ARGUMENTS` in `workingDirectory` (where Maven may leave nothing but its
    /// output) and returns however it ended; throws only when mvn cannot be started or runs past `timeout`.
    public static func run(_ arguments: [String], settings: String, workingDirectory: String,
                           timeout: Duration = .seconds(180)) async throws -> MavenRun {
        let all = ["-B", "-s", settings] + arguments
        var environment = ChildProcess.inheritedEnvironment(["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "JAVA_HOME"])
        environment["MAVEN_OPTS"] = javaOptions
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await ChildProcess.run(executable: try executable(), arguments: all, environment: environment,
                                                workingDirectory: workingDirectory, timeout: timeout)
        return MavenRun(arguments: all, result: result, duration: clock.now - start)
    }
}

/// User name and password for HTTP Basic.
public struct MavenCredentials: Sendable, Hashable {
    public let username: String
    public let password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// `Basic base64(username:password)`.
    public var authorizationHeader: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }
}

/// A `settings.xml` for the test runs of Maven: Debian's plugin repository as the `central` mirror, a private
/// local repository, servers with credentials, and repositories to resolve from with checksum policy `fail`
/// and update policy `always` (releases and snapshots) in an active profile.
public struct MavenTestSettings: Sendable {
    public struct Server: Sendable {
        public let id: String
        public let credentials: MavenCredentials

        public init(id: String, credentials: MavenCredentials) {
            self.id = id
            self.credentials = credentials
        }
    }

    public var localRepository: String
    public var servers: [Server]
    /// (id, url) of the repositories artifacts are resolved from.
    public var repositories: [(id: String, url: String)]

    public init(localRepository: String, servers: [Server] = [], repositories: [(id: String, url: String)] = []) {
        self.localRepository = localRepository
        self.servers = servers
        self.repositories = repositories
    }

    public func render() -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
        }
        var xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">
              <localRepository>\(escape(localRepository))</localRepository>
              <interactiveMode>false</interactiveMode>
              <mirrors>
                <mirror><id>debian</id><mirrorOf>central</mirrorOf><url>file://\(MavenTool.debianRepository)</url></mirror>
              </mirrors>
              <servers>

            """
        for server in servers {
            xml += "    <server><id>\(escape(server.id))</id><username>\(escape(server.credentials.username))</username>"
                + "<password>\(escape(server.credentials.password))</password></server>\n"
        }
        xml += "  </servers>\n"
        if !repositories.isEmpty {
            let policy = "<enabled>true</enabled><updatePolicy>always</updatePolicy><checksumPolicy>fail</checksumPolicy>"
            xml += "  <profiles><profile><id>stevedore-test</id><repositories>\n"
            for repository in repositories {
                xml += "    <repository><id>\(escape(repository.id))</id><url>\(escape(repository.url))</url>"
                    + "<releases>\(policy)</releases><snapshots>\(policy)</snapshots></repository>\n"
            }
            xml += "  </repositories></profile></profiles>\n"
            xml += "  <activeProfiles><activeProfile>stevedore-test</activeProfile></activeProfiles>\n"
        }
        xml += "</settings>\n"
        return xml
    }

    /// Writes the settings to `path` and returns it.
    @discardableResult
    public func write(to path: String) throws -> String {
        try Data(render().utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}
