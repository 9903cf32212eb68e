import Foundation

/// A small Java library built for real with the JDK (`javac`, `javadoc`, `jar`): for each version a main jar,
/// `sources` and `javadoc` classifier jars and a pom, in a temporary directory. By default three versions:
/// releases 1.0.0 and 1.1.0 and 1.2.0-SNAPSHOT. The code is compiled once; each version's jars carry a
/// `version.properties` of their own, so every version's files (and checksums) differ. Jars have a fixed
/// date, so the same version builds to the same bytes every time.
///
/// `stage` and `deploy` hand the files to Debian's Maven (`deploy-file`), so a staged directory is exactly
/// what Maven itself writes; call `remove()` when done.
public struct MavenArtifacts: Sendable {
    /// The files of one version.
    public struct Version: Sendable {
        public let version: String
        public let jar: String
        public let sources: String
        public let javadoc: String
        public let pom: String

        public var isSnapshot: Bool { version.hasSuffix("-SNAPSHOT") }
    }

    public static let defaultVersions = ["1.0.0", "1.1.0", "1.2.0-SNAPSHOT"]

    public let groupId: String
    public let artifactId: String
    /// The id and URL the poms' `<distributionManagement>` names (repository and snapshotRepository).
    public let distribution: (id: String, url: String)
    /// Holds `src/`, `classes/`, `versions/<version>/` and Maven's private local repository.
    public let directory: TempDirectory
    public let versions: [Version]
    /// How long building took (javac, javadoc, the jars).
    public let buildDuration: Duration

    /// `com/example/stevedore/greeter`.
    public var artifactPath: String { groupId.split(separator: ".").joined(separator: "/") + "/" + artifactId }
    /// Maven's local repository for `stage` and `deploy` (plugins only).
    public var localRepository: String { directory.file("local-repository") }

    /// The files of `version`; a test's typo traps.
    public func version(_ version: String) -> Version {
        guard let found = versions.first(where: { $0.version == version }) else {
            preconditionFailure("MavenArtifacts has no version \(version); it has \(versions.map(\.version))")
        }
        return found
    }

    /// Compiles, documents and packages the library for every version.
    public static func build(groupId: String = "com.example.stevedore", artifactId: String = "greeter",
                             versions: [String] = defaultVersions,
                             distribution: (id: String, url: String) = ("github", "https://maven.pkg.github.com/example/greeter"))
        async throws -> MavenArtifacts {
        let directory = try TempDirectory.create(prefix: "stevedore-maven-artifacts")
        do {
            let clock = ContinuousClock()
            let start = clock.now
            let package = groupId + "." + artifactId.replacingOccurrences(of: "-", with: "_")
            let packagePath = package.replacingOccurrences(of: ".", with: "/")
            try directory.makeSubdirectory("src/\(packagePath)")
            try directory.write("src/\(packagePath)/Greeter.java", javaSource(package: package))
            try await jdk("javac", ["-d", directory.file("classes"), directory.file("src/\(packagePath)/Greeter.java")])
            try await jdk("javadoc", ["-quiet", "-Xdoclint:none", "-d", directory.file("apidocs"),
                                      directory.file("src/\(packagePath)/Greeter.java")])
            var built: [Version] = []
            for version in versions {
                let dir = try directory.makeSubdirectory("versions/\(version)")
                try directory.makeSubdirectory("versions/\(version)/resource/\(packagePath)")
                try directory.write("versions/\(version)/resource/\(packagePath)/version.properties",
                                    "version=\(version)\n")
                let base = "\(dir)/\(artifactId)-\(version)"
                let resource = directory.file("versions/\(version)/resource")
                async let jar: Void = jdk("jar", jarArguments(base + ".jar", [directory.file("classes"), resource]))
                async let sources: Void = jdk("jar", jarArguments(base + "-sources.jar", [directory.file("src"), resource]))
                async let javadoc: Void = jdk("jar", jarArguments(base + "-javadoc.jar", [directory.file("apidocs")]))
                _ = try await (jar, sources, javadoc)
                try Data(pom(groupId: groupId, artifactId: artifactId, version: version, distribution: distribution).utf8)
                    .write(to: URL(fileURLWithPath: base + ".pom"))
                built.append(Version(version: version, jar: base + ".jar", sources: base + "-sources.jar",
                                     javadoc: base + "-javadoc.jar", pom: base + ".pom"))
            }
            return MavenArtifacts(groupId: groupId, artifactId: artifactId, distribution: distribution,
                                  directory: directory, versions: built, buildDuration: clock.now - start)
        } catch {
            directory.remove()
            throw error
        }
    }

    /// Deploys one version into a `file:` repository at `stagingDirectory` with `mvn deploy-file`, as
    /// `mvn deploy -DaltDeploymentRepository=staging::file:DIR` would: files, all four checksums, metadata;
    /// a SNAPSHOT gets a timestamped build (deploy it twice for two builds).
    public func stage(_ version: String, into stagingDirectory: String, classifiers: Bool = true) async throws -> MavenRun {
        let settings = try writeSettings(name: "settings-staging.xml", servers: [])
        return try await deployFile(version, url: URL(fileURLWithPath: stagingDirectory).absoluteString, repositoryID: "staging",
                                    settings: settings, classifiers: classifiers)
    }

    /// Deploys one version into a repository over HTTP (e.g. a `MavenRepositoryFixture`) with `mvn deploy-file`.
    public func deploy(_ version: String, to url: String, repositoryID: String = "fixture", credentials: MavenCredentials?,
                       classifiers: Bool = true) async throws -> MavenRun {
        let servers = credentials.map { [MavenTestSettings.Server(id: repositoryID, credentials: $0)] } ?? []
        let settings = try writeSettings(name: "settings-\(UUID().uuidString).xml", servers: servers)
        defer { try? FileManager.default.removeItem(atPath: settings) }
        return try await deployFile(version, url: url, repositoryID: repositoryID, settings: settings, classifiers: classifiers)
    }

    public func remove() { directory.remove() }

    // MARK: Internals

    private func deployFile(_ version: String, url: String, repositoryID: String, settings: String,
                            classifiers: Bool) async throws -> MavenRun {
        let files = self.version(version)
        var arguments = [MavenTool.deployFile, "-Dfile=\(files.jar)", "-DpomFile=\(files.pom)",
                         "-DrepositoryId=\(repositoryID)", "-Durl=\(url)",
                         "-Daether.checksums.algorithms=\(MavenTool.allChecksumAlgorithms.joined(separator: ","))"]
        if classifiers { arguments += ["-Dsources=\(files.sources)", "-Djavadoc=\(files.javadoc)"] }
        return try await MavenTool.run(arguments, settings: settings, workingDirectory: directory.path)
    }

    private func writeSettings(name: String, servers: [MavenTestSettings.Server]) throws -> String {
        try MavenTestSettings(localRepository: localRepository, servers: servers).write(to: directory.file(name))
    }

    private static func jarArguments(_ output: String, _ roots: [String]) -> [String] {
        ["--create", "--date=2026-01-01T00:00:00Z", "--file", output] + roots.flatMap { ["-C", $0, "."] }
    }

    /// Runs a JDK tool and throws with its output when it fails.
    private static func jdk(_ tool: String, _ arguments: [String]) async throws {
        let executable: String
        do {
            executable = try ChildProcess.resolve(tool)
        } catch {
            throw TestSupportError("\(tool) is missing: install a JDK (default-jdk-headless, make deps)")
        }
        let result = try await ChildProcess.run(executable: executable, arguments: arguments,
                                                environment: ChildProcess.inheritedEnvironment(["PATH", "HOME", "TMPDIR", "JAVA_HOME"]),
                                                timeout: .seconds(120))
        guard result.succeeded else { throw TestSupportError("\(tool) \(arguments.joined(separator: " ")) failed: \(result)") }
    }

    private static func javaSource(package: String) -> String {
        """
        package \(package);

        import java.io.IOException;
        import java.io.InputStream;
        import java.util.Properties;

        /** Greets people; a library published by Stevedore's tests. */
        public final class Greeter {
            private Greeter() {}

            /** The version this jar was built as, from its version.properties. */
            public static String version() {
                try (InputStream in = Greeter.class.getResourceAsStream("version.properties")) {
                    Properties properties = new Properties();
                    properties.load(in);
                    return properties.getProperty("version");
                } catch (IOException | NullPointerException e) {
                    return "unknown";
                }
            }

            /** A greeting for a name. */
            public static String greet(String name) {
                return "Hello, " + name + " (greeter " + version() + ")";
            }
        }

        """
    }

    static func pom(groupId: String, artifactId: String, version: String, distribution: (id: String, url: String)) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <project xmlns="http://maven.apache.org/POM/4.0.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                 xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
          <modelVersion>4.0.0</modelVersion>
          <groupId>\(groupId)</groupId>
          <artifactId>\(artifactId)</artifactId>
          <version>\(version)</version>
          <packaging>jar</packaging>
          <name>greeter</name>
          <description>A library built by Stevedore's tests.</description>
          <distributionManagement>
            <repository><id>\(distribution.id)</id><url>\(distribution.url)</url></repository>
            <snapshotRepository><id>\(distribution.id)</id><url>\(distribution.url)</url></snapshotRepository>
          </distributionManagement>
        </project>

        """
    }
}
