/// One file of a Maven artifact version: `groupId:artifactId:version[:classifier]` with its extension.
///
/// Its place in a repository follows the Maven 2 layout
/// (https://maven.apache.org/repositories/layout.html): `com/example/greeter/1.0.0/greeter-1.0.0-sources.jar`.
/// The values are checked when the coordinates are made, so a path built from them is always safe to use.
public struct MavenCoordinates: Sendable, Hashable, CustomStringConvertible {
    public let groupId: String
    public let artifactId: String
    /// The version as given: a release (`1.0.0`), a SNAPSHOT (`1.2.0-SNAPSHOT`) or a timestamped SNAPSHOT
    /// (`1.2.0-20261202.050146-2`).
    public let version: String
    /// `sources`, `javadoc`, ...; nil for the main artifact and the pom.
    public let classifier: String?
    /// `jar`, `pom`, `jar.asc`, `tar.gz`, ... (no leading dot).
    public let fileExtension: String

    /// Checks every part (see `validate`); the first problem is thrown.
    public init(groupId: String, artifactId: String, version: String, classifier: String? = nil,
                fileExtension: String = "jar") throws(CoordinatesError) {
        try Self.validateName("groupId", groupId)
        try Self.validateName("artifactId", artifactId)
        try Self.validateVersion(version)
        if let classifier { try Self.validateName("classifier", classifier) }
        try Self.validateExtension(fileExtension)
        self.groupId = groupId
        self.artifactId = artifactId
        self.version = version
        self.classifier = classifier
        self.fileExtension = fileExtension
    }

    /// The same version with another classifier and extension (both already valid in `self` or checked here).
    public func file(classifier: String?, fileExtension: String) throws(CoordinatesError) -> MavenCoordinates {
        try MavenCoordinates(groupId: groupId, artifactId: artifactId, version: version, classifier: classifier,
                             fileExtension: fileExtension)
    }

    /// Whether this is a SNAPSHOT version, plain (`-SNAPSHOT`) or timestamped (`-20261202.050146-2`).
    public var isSnapshot: Bool { SnapshotVersion.isSnapshot(version) }

    /// The version a repository directory is named after: `1.2.0-SNAPSHOT` for a timestamped SNAPSHOT,
    /// else the version itself.
    public var baseVersion: String { SnapshotVersion.baseVersion(of: version) }

    /// `com/example/tools`: the groupId with its dots turned into slashes.
    public var groupPath: String { groupId.split(separator: ".").joined(separator: "/") }

    /// `com/example/tools/greeter`: where the artifact-level `maven-metadata.xml` lives.
    public var artifactPath: String { "\(groupPath)/\(artifactId)" }

    /// `com/example/tools/greeter/1.0.0`: the version directory (named after the base version).
    public var gavPath: String { "\(artifactPath)/\(baseVersion)" }

    /// `greeter-1.0.0-sources.jar`: the file name for `version` as given.
    public var fileName: String { fileName(versionInName: version) }

    /// The file name with another version string in it, e.g. a SNAPSHOT's timestamped value.
    public func fileName(versionInName: String) -> String {
        let suffix = classifier.map { "-\($0)" } ?? ""
        return "\(artifactId)-\(versionInName)\(suffix).\(fileExtension)"
    }

    /// `gavPath/fileName`, relative to the repository root (no leading slash).
    public var path: String { "\(gavPath)/\(fileName)" }

    /// `groupId:artifactId:extension[:classifier]:version`, Maven's own order for a full coordinate.
    public var description: String {
        var parts = [groupId, artifactId, fileExtension]
        if let classifier { parts.append(classifier) }
        parts.append(version)
        return parts.joined(separator: ":")
    }

    // MARK: Validation

    /// groupId, artifactId and classifier: Maven's rule, `[A-Za-z0-9_.-]+`, plus no empty dot-segment.
    static func validateName(_ field: String, _ value: String) throws(CoordinatesError) {
        guard !value.isEmpty else {
            throw CoordinatesError(field: field, value: value, reason: "is empty; give a value")
        }
        if let bad = value.unicodeScalars.first(where: { !isNameCharacter($0) }) {
            throw CoordinatesError(field: field, value: value,
                                   reason: "contains \(describe(bad)); use letters, digits, '.', '-' and '_' only")
        }
        if field == "groupId", value.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
            throw CoordinatesError(field: field, value: value,
                                   reason: "has an empty part between dots; write it like com.example.tools")
        }
        if value == "." || value == ".." {
            throw CoordinatesError(field: field, value: value, reason: "is not a name; give a real \(field)")
        }
    }

    /// Versions: anything but whitespace, path separators and the characters Maven rejects (`\/:"<>|?*`).
    static func validateVersion(_ value: String) throws(CoordinatesError) {
        guard !value.isEmpty else {
            throw CoordinatesError(field: "version", value: value, reason: "is empty; give a version such as 1.0.0")
        }
        if value.contains("${") {
            throw CoordinatesError(field: "version", value: value,
                                   reason: "is an unresolved property; give the literal version (flatten the pom)")
        }
        let forbidden: Set<Unicode.Scalar> = ["\\", "/", ":", "\"", "<", ">", "|", "?", "*"]
        if let bad = value.unicodeScalars.first(where: { forbidden.contains($0) || $0.properties.isWhitespace
                                                         || $0.value < 0x20 }) {
            throw CoordinatesError(field: "version", value: value,
                                   reason: "contains \(describe(bad)); Maven versions cannot hold it")
        }
        if value == "." || value == ".." {
            throw CoordinatesError(field: "version", value: value, reason: "is not a version")
        }
    }

    /// Extensions: name characters, inner dots allowed (`tar.gz`), no leading or trailing dot.
    static func validateExtension(_ value: String) throws(CoordinatesError) {
        guard !value.isEmpty else {
            throw CoordinatesError(field: "extension", value: value, reason: "is empty; give one such as jar")
        }
        if let bad = value.unicodeScalars.first(where: { !isNameCharacter($0) }) {
            throw CoordinatesError(field: "extension", value: value, reason: "contains \(describe(bad))")
        }
        if value.hasPrefix(".") || value.hasSuffix(".") || value.contains("..") {
            throw CoordinatesError(field: "extension", value: value,
                                   reason: "has a misplaced dot; write it without the leading dot, e.g. jar or tar.gz")
        }
    }

    private static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "-", "_", ".": return true
        default: return false
        }
    }

    private static func describe(_ scalar: Unicode.Scalar) -> String {
        scalar.properties.isWhitespace || scalar.value < 0x20
            ? "a space or control character (U+\(String(scalar.value, radix: 16, uppercase: true)))"
            : "'\(scalar)'"
    }
}

/// A groupId, artifactId, version, classifier or extension that Maven would not accept.
public struct CoordinatesError: Error, Sendable, Equatable, CustomStringConvertible {
    public let field: String
    public let value: String
    public let reason: String

    public init(field: String, value: String, reason: String) {
        self.field = field
        self.value = value
        self.reason = reason
    }

    public var description: String { "\(field) '\(value)' \(reason)" }
}
