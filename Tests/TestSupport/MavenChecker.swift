import Foundation

/// What one `mvn dependency:get` made of a repository.
public struct MavenResolution: Sendable, CustomStringConvertible {
    public let run: MavenRun
    /// The file Maven put in its local repository (`greeter-1.2.0-SNAPSHOT.jar` for a SNAPSHOT); nil on failure.
    public let resolvedFile: String?
    /// Every URL Maven reported downloading from the checked repository, in order.
    public let downloads: [String]

    public var succeeded: Bool { run.succeeded && resolvedFile != nil }
    public var output: String { run.output }

    /// The resolved file's bytes.
    public func resolvedBytes() -> [UInt8]? {
        resolvedFile.flatMap { FileManager.default.contents(atPath: $0) }.map { Array($0) }
    }

    public var description: String { "\(succeeded ? "resolved" : "failed") \(resolvedFile ?? "")\n\(run)" }
}

/// Maven itself as the independent check of a published repository: `mvn dependency:get` (Debian's
/// maven-dependency-plugin 3.5.0) resolving one artifact with checksum policy `fail`, checking the checksum
/// algorithms given (strongest first: Maven checks the first one the server has, falling back to the next
/// only when that checksum file is missing).
///
/// Each resolve starts from a local repository without the artifact, so the files really come from the
/// server; one checker runs one `mvn` at a time.
public struct MavenChecker: Sendable {
    public let repositoryURL: String
    public let repositoryID: String
    public let credentials: MavenCredentials?
    /// Holds the settings and Maven's local repository.
    public let directory: TempDirectory

    public init(repositoryURL: String, repositoryID: String = "fixture", credentials: MavenCredentials?) throws {
        self.repositoryURL = repositoryURL
        self.repositoryID = repositoryID
        self.credentials = credentials
        self.directory = try TempDirectory.create(prefix: "stevedore-maven-checker")
    }

    /// A checker for a fixture, with the fixture's first writer as credentials unless told otherwise.
    public init(fixture: MavenRepositoryFixture, credentials: MavenCredentials? = nil) throws {
        try self.init(repositoryURL: fixture.baseURL, credentials: credentials ?? fixture.writer)
    }

    public var localRepository: String { directory.file("local-repository") }

    /// Resolves `groupId:artifactId:version`, optionally with a classifier and another extension. A SNAPSHOT
    /// version resolves the latest build the server's version-level metadata names.
    public func resolve(groupId: String, artifactId: String, version: String, classifier: String? = nil,
                        fileExtension: String = "jar",
                        checksumAlgorithms: [String] = MavenTool.allChecksumAlgorithms) async throws -> MavenResolution {
        let artifactPath = groupId.split(separator: ".").joined(separator: "/") + "/" + artifactId
        try? FileManager.default.removeItem(atPath: "\(localRepository)/\(artifactPath)")
        let servers = credentials.map { [MavenTestSettings.Server(id: repositoryID, credentials: $0)] } ?? []
        let settings = try MavenTestSettings(localRepository: localRepository, servers: servers,
                                             repositories: [(repositoryID, repositoryURL)])
            .write(to: directory.file("settings.xml"))
        var coordinate = "\(groupId):\(artifactId):\(version):\(fileExtension)"
        if let classifier { coordinate += ":\(classifier)" }
        let run = try await MavenTool.run([MavenTool.dependencyGet, "-Dartifact=\(coordinate)", "-Dtransitive=false",
                                           "-Daether.checksums.algorithms=\(checksumAlgorithms.joined(separator: ","))"],
                                          settings: settings, workingDirectory: directory.path)
        let name = "\(artifactId)-\(version)\(classifier.map { "-\($0)" } ?? "").\(fileExtension)"
        let file = "\(localRepository)/\(artifactPath)/\(version)/\(name)"
        let resolved = run.succeeded && FileManager.default.fileExists(atPath: file) ? file : nil
        return MavenResolution(run: run, resolvedFile: resolved, downloads: downloads(in: run.output))
    }

    /// Removes the checker's directory.
    public func remove() { directory.remove() }

    /// `Downloaded from fixture: http://127.0.0.1:PORT/... (1.2 kB at 3 kB/s)` -> the URL.
    private func downloads(in output: String) -> [String] {
        let marker = "Downloaded from \(repositoryID): "
        return output.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: marker) else { return nil }
            return line[range.upperBound...].split(separator: " ").first.map(String.init)
        }
    }
}
