import Checksums
/// One file to publish, found in a version directory.
public struct ArtifactFile: Sendable, Hashable {
    /// The absolute path on disk.
    public let path: String
    /// The name on disk (for a timestamped SNAPSHOT, with the staged build in it).
    public let name: String
    public let classifier: String?
    /// `jar`, `pom`, `jar.asc`, ...
    public let fileExtension: String
    public let size: Int64
    /// The checksum files next to it in the directory (validated, never uploaded: the upload computes its own).
    public let checksumFiles: [ChecksumAlgorithm: String]

    public init(path: String, name: String, classifier: String?, fileExtension: String, size: Int64,
                checksumFiles: [ChecksumAlgorithm: String]) {
        self.path = path
        self.name = name
        self.classifier = classifier
        self.fileExtension = fileExtension
        self.size = size
        self.checksumFiles = checksumFiles
    }

    public var isPom: Bool { classifier == nil && fileExtension == "pom" }
}

/// How the files of a SNAPSHOT version are named in the directory.
public enum SnapshotNaming: Sendable, Hashable {
    /// `greeter-1.2.0-SNAPSHOT.jar`: a local install (`~/.m2`); the publish gives them a new timestamp.
    case plain
    /// `greeter-1.2.0-20261202.050146-2.jar`: a deploy to a `file:` repository; this is the build found.
    case timestamped(SnapshotVersion)
}

/// One artifact version to publish (one job): its pom and every file of one build, in upload order.
public struct ArtifactVersion: Sendable, Hashable, CustomStringConvertible {
    public let groupId: String
    public let artifactId: String
    /// The directory's version: `1.0.0`, or `1.2.0-SNAPSHOT` for every build of that SNAPSHOT.
    public let version: String
    /// The version directory (absolute).
    public let directory: String
    public let pom: PomInfo
    /// Main artifact first (when the packaging has one), then the pom, then the rest by classifier and extension:
    /// the order Maven's deploy uploads them in.
    public let files: [ArtifactFile]
    /// nil for a release.
    public let snapshotNaming: SnapshotNaming?

    public init(groupId: String, artifactId: String, version: String, directory: String, pom: PomInfo,
                files: [ArtifactFile], snapshotNaming: SnapshotNaming?) {
        self.groupId = groupId
        self.artifactId = artifactId
        self.version = version
        self.directory = directory
        self.pom = pom
        self.files = files
        self.snapshotNaming = snapshotNaming
    }

    public var isSnapshot: Bool { snapshotNaming != nil }

    /// `com/example/tools/greeter/1.0.0`: where the files go below the repository URL.
    public var gavPath: String { "\(groupId.split(separator: ".").joined(separator: "/"))/\(artifactId)/\(version)" }

    /// `com/example/tools/greeter`: where the artifact-level maven-metadata.xml is.
    public var artifactPath: String { "\(groupId.split(separator: ".").joined(separator: "/"))/\(artifactId)" }

    /// The pom file.
    public var pomFile: ArtifactFile { files.first(where: \.isPom)! }

    /// The file of the packaging's extension without a classifier (nil for packaging `pom`).
    public var mainArtifact: ArtifactFile? {
        guard let fileExtension = pom.mainArtifactExtension else { return nil }
        return files.first { $0.classifier == nil && $0.fileExtension == fileExtension }
    }

    /// The coordinates of one of its files (version = the directory's version).
    public func coordinates(of file: ArtifactFile) throws(CoordinatesError) -> MavenCoordinates {
        try MavenCoordinates(groupId: groupId, artifactId: artifactId, version: version, classifier: file.classifier,
                             fileExtension: file.fileExtension)
    }

    /// `com.example.tools:greeter:1.0.0`.
    public var description: String { "\(groupId):\(artifactId):\(version)" }
}

/// A file the scan left out on purpose, and why.
public struct IgnoredFile: Sendable, Hashable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// Something in the directory that stops the publish before any request; `path` is the file to look at.
public struct LayoutProblem: Sendable, Hashable, CustomStringConvertible {
    public let path: String
    /// Lowercase, with the remedy.
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// Which artifact versions to publish: each field, when set, must match (`*` matches any run of characters).
public struct ArtifactFilter: Sendable, Hashable {
    public var groupId: String?
    public var artifactId: String?
    public var version: String?

    public init(groupId: String? = nil, artifactId: String? = nil, version: String? = nil) {
        self.groupId = groupId
        self.artifactId = artifactId
        self.version = version
    }

    public func matches(groupId: String?, artifactId: String, version: String) -> Bool {
        if let pattern = self.groupId, let groupId, !Self.glob(pattern, groupId) { return false }
        if let pattern = self.artifactId, !Self.glob(pattern, artifactId) { return false }
        if let pattern = self.version, !Self.glob(pattern, version) { return false }
        return true
    }

    /// `*` matches any run of characters (none included); everything else matches itself.
    static func glob(_ pattern: String, _ text: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return pattern == text }
        guard text.hasPrefix(parts[0]) else { return false }
        var rest = Substring(text.dropFirst(parts[0].count))
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let found = rest.range(of: part) else { return false }
            rest = rest[found.upperBound...]
        }
        let last = parts[parts.count - 1]
        return rest.count >= last.count && rest.hasSuffix(last)
    }
}

/// What a scan of a directory found.
public struct RepositoryScan: Sendable, Hashable {
    /// The directory scanned (absolute, no trailing slash).
    public let root: String
    /// Sorted by groupId, artifactId, then Maven version order.
    public let versions: [ArtifactVersion]
    /// Sorted by path.
    public let ignored: [IgnoredFile]
    /// Sorted by path; empty when the directory can be published.
    public let problems: [LayoutProblem]
}

/// The scanned directory itself cannot be used.
public struct LayoutError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path) \(reason)" }
}
