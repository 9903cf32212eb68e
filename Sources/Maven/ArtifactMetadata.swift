import Foundation

/// The artifact-level `maven-metadata.xml` (`com/example/greeter/maven-metadata.xml`): which versions exist.
///
/// Read, merged and written the way Maven 3.8's deploy does
/// (https://maven.apache.org/repositories/metadata.html): versions keep their order and a new one is
/// appended; `<release>` becomes the last deployed release; a SNAPSHOT adds its base version only;
/// `<latest>` is never added (a remote one is kept as it is); `lastUpdated` is `yyyyMMddHHmmss` UTC.
/// Elements outside this model (a `<plugins>` list, say) are not kept.
public struct ArtifactMetadata: Sendable, Equatable {
    public var groupId: String
    public var artifactId: String
    public var latest: String?
    public var release: String?
    /// In the document's order, without duplicates.
    public var versions: [String]
    /// `yyyyMMddHHmmss` (UTC), as written by the last deploy.
    public var lastUpdated: String?

    public init(groupId: String, artifactId: String, latest: String? = nil, release: String? = nil,
                versions: [String] = [], lastUpdated: String? = nil) {
        self.groupId = groupId
        self.artifactId = artifactId
        self.latest = latest
        self.release = release
        self.versions = Self.unique(versions)
        self.lastUpdated = lastUpdated
    }

    /// Parses a document; `source` (a file or URL) names it in errors. groupId and artifactId are required.
    public static func parse(_ data: Data, source: String) throws(MetadataError) -> ArtifactMetadata {
        let root = try MetadataError.root(of: data, source: source)
        guard let groupId = root.value("groupId") else { throw .missingElement(source: source, element: "groupId") }
        guard let artifactId = root.value("artifactId") else { throw .missingElement(source: source, element: "artifactId") }
        let versioning = root.child("versioning")
        let versions = versioning?.child("versions")?.children("version").compactMap { node -> String? in
            let text = node.text.trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? nil : text
        } ?? []
        return ArtifactMetadata(groupId: groupId, artifactId: artifactId, latest: versioning?.value("latest"),
                                release: versioning?.value("release"), versions: versions,
                                lastUpdated: versioning?.value("lastUpdated"))
    }

    /// The metadata after deploying `version` (a release or a SNAPSHOT, plain or timestamped) at `date`:
    /// the base version appended if new, `<release>` set for a release, `lastUpdated` set to `date`.
    public func adding(version: String, at date: Date) -> ArtifactMetadata {
        var next = self
        let base = SnapshotVersion.baseVersion(of: version)
        if !next.versions.contains(base) { next.versions.append(base) }
        if !SnapshotVersion.isSnapshot(base) { next.release = base }
        next.lastUpdated = SnapshotVersion.lastUpdated(for: date)
        return next
    }

    /// The merge of what this run publishes (`self`) into the document fetched from the server (`remote`):
    /// the remote's versions first, in its order, then ours that it lacks; our `release`, `latest` and
    /// `lastUpdated` where we have them, else the remote's. Versions only the remote has are kept.
    /// Throws when the two documents are about different artifacts.
    public func merged(into remote: ArtifactMetadata, source: String) throws(MetadataError) -> ArtifactMetadata {
        guard remote.groupId == groupId, remote.artifactId == artifactId else {
            throw .otherArtifact(source: source, expected: "\(groupId):\(artifactId)",
                                 found: "\(remote.groupId):\(remote.artifactId)")
        }
        var merged = remote
        for version in versions where !merged.versions.contains(version) { merged.versions.append(version) }
        merged.release = release ?? remote.release
        merged.latest = latest ?? remote.latest
        merged.lastUpdated = lastUpdated ?? remote.lastUpdated
        return merged
    }

    /// The document after publishing `versions` (in order) at `date` on top of `remote` (nil when the
    /// server answered 404): what the upload PUTs back.
    public static func afterPublishing(_ versions: [String], groupId: String, artifactId: String,
                                       remote: ArtifactMetadata?, at date: Date,
                                       source: String) throws(MetadataError) -> ArtifactMetadata {
        var document = remote ?? ArtifactMetadata(groupId: groupId, artifactId: artifactId)
        guard document.groupId == groupId, document.artifactId == artifactId else {
            throw .otherArtifact(source: source, expected: "\(groupId):\(artifactId)",
                                 found: "\(document.groupId):\(document.artifactId)")
        }
        for version in versions { document = document.adding(version: version, at: date) }
        return document
    }

    /// The XML Maven writes: two-space indentation, `<release>` only when set, no `<latest>` unless set.
    public func render() -> String {
        var xml = XMLWriter()
        xml.open("metadata")
        xml.element("groupId", groupId)
        xml.element("artifactId", artifactId)
        xml.open("versioning")
        xml.element("latest", latest)
        xml.element("release", release)
        if !versions.isEmpty {
            xml.open("versions")
            for version in versions { xml.element("version", version) }
            xml.close("versions")
        }
        xml.element("lastUpdated", lastUpdated)
        xml.close("versioning")
        xml.close("metadata")
        return xml.output
    }

    private static func unique(_ versions: [String]) -> [String] {
        var seen = Set<String>()
        return versions.filter { seen.insert($0).inserted }
    }
}
