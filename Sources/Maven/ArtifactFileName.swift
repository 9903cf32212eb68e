/// The parts of a file name in a version directory: `<artifactId>-<version>[-<classifier>].<extension>`.
///
/// For a SNAPSHOT the version in the name is either the base version (`greeter-1.2.0-SNAPSHOT.jar`, what
/// `mvn install` leaves in `~/.m2`) or a timestamped build (`greeter-1.2.0-20261202.050146-2.jar`, what a
/// deploy to a `file:` repository writes). The classifier ends at the first dot, so the extension may hold
/// dots itself: `greeter-1.0.0.jar.asc` is extension `jar.asc`, `greeter-1.0.0-dist.tar.gz` is classifier
/// `dist`, extension `tar.gz`.
public struct ArtifactFileName: Sendable, Hashable {
    public let classifier: String?
    public let fileExtension: String
    /// The build in the name, for a timestamped SNAPSHOT file; nil for release and plain `-SNAPSHOT` names.
    public let build: SnapshotVersion?

    public init(classifier: String?, fileExtension: String, build: SnapshotVersion?) {
        self.classifier = classifier
        self.fileExtension = fileExtension
        self.build = build
    }

    /// Parses `name` as a file of `artifactId` at `version` (the directory's version); nil when the name
    /// does not start with `<artifactId>-<version>` (or a timestamped form of it for a SNAPSHOT) or has no
    /// extension.
    public static func parse(_ name: String, artifactId: String, version: String) -> ArtifactFileName? {
        let plainPrefix = "\(artifactId)-\(version)"
        if let rest = remainder(of: name, after: plainPrefix) {
            return split(rest, build: nil)
        }
        guard version.hasSuffix(SnapshotVersion.suffix) else { return nil }
        let stem = "\(artifactId)-\(version.dropLast(SnapshotVersion.suffix.count))-"
        guard name.hasPrefix(stem) else { return nil }
        // <yyyyMMdd.HHmmss>-<build> then "." or "-"
        let tail = name.dropFirst(stem.count)
        let timestamp = String(tail.prefix(15))
        guard SnapshotVersion.isTimestamp(timestamp) else { return nil }
        let afterTimestamp = tail.dropFirst(15)
        guard afterTimestamp.first == "-" else { return nil }
        let digits = afterTimestamp.dropFirst().prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.first != "0", let number = Int(digits),
              let build = SnapshotVersion(baseVersion: version, timestamp: timestamp, buildNumber: number) else {
            return nil
        }
        let rest = afterTimestamp.dropFirst(1 + digits.count)
        guard rest.first == "." || rest.first == "-" else { return nil }
        return split(Substring(rest), build: build)
    }

    /// The file name for these parts: `<artifactId>-<version or build>[-classifier].<extension>`.
    public func fileName(artifactId: String, version: String) -> String {
        let versionInName = build?.value ?? version
        let suffix = classifier.map { "-\($0)" } ?? ""
        return "\(artifactId)-\(versionInName)\(suffix).\(fileExtension)"
    }

    private static func remainder(of name: String, after prefix: String) -> Substring? {
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard rest.first == "." || rest.first == "-" else { return nil }
        return rest
    }

    /// `.jar` -> (nil, jar); `-sources.jar` -> (sources, jar); nil for an empty classifier or extension.
    private static func split(_ rest: Substring, build: SnapshotVersion?) -> ArtifactFileName? {
        if rest.first == "." {
            let fileExtension = String(rest.dropFirst())
            // `greeter-1.0.1.jar` in the 1.0 directory is another version's file, not extension `1.jar`.
            let first = fileExtension.prefix { $0 != "." }
            guard !fileExtension.isEmpty, !first.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return ArtifactFileName(classifier: nil, fileExtension: fileExtension, build: build)
        }
        let body = rest.dropFirst()
        guard let dot = body.firstIndex(of: ".") else { return nil }
        let classifier = String(body[..<dot])
        let fileExtension = String(body[body.index(after: dot)...])
        guard !classifier.isEmpty, !fileExtension.isEmpty else { return nil }
        return ArtifactFileName(classifier: classifier, fileExtension: fileExtension, build: build)
    }
}
