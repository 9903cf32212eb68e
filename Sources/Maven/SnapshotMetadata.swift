import Foundation

/// The version-level `maven-metadata.xml` of a SNAPSHOT (`com/example/greeter/1.2.0-SNAPSHOT/maven-metadata.xml`):
/// which timestamped build is the latest, file by file.
///
/// Written like Maven 3.8's deploy: `<metadata modelVersion="1.1.0">`, then groupId, artifactId, versioning
/// (lastUpdated, snapshot with timestamp and buildNumber, one snapshotVersion per classifier and extension
/// with its value and updated stamp) and finally `<version>`. See
/// https://maven.apache.org/ref/3.8.7/maven-repository-metadata/repository-metadata.html.
public struct SnapshotMetadata: Sendable, Equatable {
    /// The latest build, `<snapshot>`.
    public struct Snapshot: Sendable, Equatable {
        public var timestamp: String?
        public var buildNumber: Int?
        /// `<localCopy>true</localCopy>`: written by a local install, never by a deploy.
        public var localCopy: Bool

        public init(timestamp: String?, buildNumber: Int?, localCopy: Bool = false) {
            self.timestamp = timestamp
            self.buildNumber = buildNumber
            self.localCopy = localCopy
        }
    }

    /// One file of the latest build, `<snapshotVersion>`.
    public struct Entry: Sendable, Hashable {
        public var classifier: String?
        public var fileExtension: String
        /// `1.2.0-20261202.050146-2`.
        public var value: String
        /// `yyyyMMddHHmmss`.
        public var updated: String?

        public init(classifier: String?, fileExtension: String, value: String, updated: String?) {
            self.classifier = classifier
            self.fileExtension = fileExtension
            self.value = value
            self.updated = updated
        }

        /// `classifier:extension`, what a merge matches entries on.
        var key: String { "\(classifier ?? ""):\(fileExtension)" }
    }

    public var groupId: String
    public var artifactId: String
    /// The base version, `1.2.0-SNAPSHOT`.
    public var version: String
    public var lastUpdated: String?
    public var snapshot: Snapshot?
    public var snapshotVersions: [Entry]

    public init(groupId: String, artifactId: String, version: String, lastUpdated: String? = nil,
                snapshot: Snapshot? = nil, snapshotVersions: [Entry] = []) {
        self.groupId = groupId
        self.artifactId = artifactId
        self.version = version
        self.lastUpdated = lastUpdated
        self.snapshot = snapshot
        self.snapshotVersions = snapshotVersions
    }

    /// The metadata of one deployed build: one entry per file (classifier and extension, in the given
    /// order, duplicates dropped), all stamped with the build's time.
    public init(groupId: String, artifactId: String, build: SnapshotVersion,
                files: [(classifier: String?, fileExtension: String)], at date: Date) {
        let updated = SnapshotVersion.lastUpdated(for: date)
        var seen = Set<String>()
        var entries: [Entry] = []
        for file in files {
            let entry = Entry(classifier: file.classifier, fileExtension: file.fileExtension, value: build.value,
                              updated: updated)
            if seen.insert(entry.key).inserted { entries.append(entry) }
        }
        self.init(groupId: groupId, artifactId: artifactId, version: build.baseVersion, lastUpdated: updated,
                  snapshot: Snapshot(timestamp: build.timestamp, buildNumber: build.buildNumber),
                  snapshotVersions: entries)
    }

    /// Parses a document; `source` names it in errors. groupId, artifactId and version are required.
    public static func parse(_ data: Data, source: String) throws(MetadataError) -> SnapshotMetadata {
        let root = try MetadataError.root(of: data, source: source)
        guard let groupId = root.value("groupId") else { throw .missingElement(source: source, element: "groupId") }
        guard let artifactId = root.value("artifactId") else { throw .missingElement(source: source, element: "artifactId") }
        guard let version = root.value("version") else { throw .missingElement(source: source, element: "version") }
        let versioning = root.child("versioning")
        var snapshot: Snapshot?
        if let node = versioning?.child("snapshot") {
            let buildText = node.value("buildNumber")
            var build: Int?
            if let buildText {
                guard let number = Int(buildText), number >= 0 else {
                    throw .invalidValue(source: source, element: "buildNumber", value: buildText)
                }
                build = number
            }
            snapshot = Snapshot(timestamp: node.value("timestamp"), buildNumber: build,
                                localCopy: node.value("localCopy") == "true")
        }
        var entries: [Entry] = []
        for node in versioning?.child("snapshotVersions")?.children("snapshotVersion") ?? [] {
            guard let value = node.value("value") else { throw .missingElement(source: source, element: "snapshotVersion/value") }
            entries.append(Entry(classifier: node.value("classifier"), fileExtension: node.value("extension") ?? "jar",
                                 value: value, updated: node.value("updated")))
        }
        return SnapshotMetadata(groupId: groupId, artifactId: artifactId, version: version,
                                lastUpdated: versioning?.value("lastUpdated"), snapshot: snapshot,
                                snapshotVersions: entries)
    }

    /// This build's metadata merged into the server's (`remote`): our snapshot and lastUpdated, our entries
    /// first, then the remote's entries for classifier/extension pairs this build does not have (a file
    /// published by an earlier build stays resolvable). Throws when the documents are about another version.
    public func merged(into remote: SnapshotMetadata, source: String) throws(MetadataError) -> SnapshotMetadata {
        guard remote.groupId == groupId, remote.artifactId == artifactId, remote.version == version else {
            throw .otherArtifact(source: source, expected: "\(groupId):\(artifactId):\(version)",
                                 found: "\(remote.groupId):\(remote.artifactId):\(remote.version)")
        }
        var merged = self
        let ours = Set(snapshotVersions.map(\.key))
        merged.snapshotVersions += remote.snapshotVersions.filter { !ours.contains($0.key) }
        return merged
    }

    /// The entry Maven resolves for a classifier and extension.
    public func entry(classifier: String?, fileExtension: String) -> Entry? {
        snapshotVersions.first { $0.classifier == classifier && $0.fileExtension == fileExtension }
    }

    /// The XML, in the element order of Maven 3.8's deploy.
    public func render() -> String {
        var xml = XMLWriter()
        xml.open("metadata", attributes: [("modelVersion", "1.1.0")])
        xml.element("groupId", groupId)
        xml.element("artifactId", artifactId)
        xml.open("versioning")
        xml.element("lastUpdated", lastUpdated)
        if let snapshot {
            xml.open("snapshot")
            xml.element("timestamp", snapshot.timestamp)
            xml.element("buildNumber", snapshot.buildNumber.map(String.init))
            if snapshot.localCopy { xml.element("localCopy", "true") }
            xml.close("snapshot")
        }
        if !snapshotVersions.isEmpty {
            xml.open("snapshotVersions")
            for entry in snapshotVersions {
                xml.open("snapshotVersion")
                xml.element("classifier", entry.classifier)
                xml.element("extension", entry.fileExtension)
                xml.element("value", entry.value)
                xml.element("updated", entry.updated)
                xml.close("snapshotVersion")
            }
            xml.close("snapshotVersions")
        }
        xml.close("versioning")
        xml.element("version", version)
        xml.close("metadata")
        return xml.output
    }
}
