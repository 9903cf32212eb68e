import Foundation

/// What publishing needs from a pom (https://maven.apache.org/pom.html): the coordinates, with `<parent>`
/// supplying a missing groupId or version, the packaging, and the `<distributionManagement>` repositories.
///
/// `${...}` references to the pom's own `<properties>` and to `project.*`/`project.parent.*` coordinates are
/// resolved; anything else stays as written (and then fails coordinate validation with a clear message).
public struct PomInfo: Sendable, Hashable {
    /// The pom's `<parent>`.
    public struct Parent: Sendable, Hashable {
        public let groupId: String?
        public let artifactId: String?
        public let version: String?

        public init(groupId: String?, artifactId: String?, version: String?) {
            self.groupId = groupId
            self.artifactId = artifactId
            self.version = version
        }
    }

    /// A `<repository>` or `<snapshotRepository>` of `<distributionManagement>`.
    public struct DeploymentRepository: Sendable, Hashable {
        public let id: String?
        public let url: String?

        public init(id: String?, url: String?) {
            self.id = id
            self.url = url
        }
    }

    /// The file this was read from (or the name given to `parse`).
    public let path: String
    /// The effective groupId: the pom's own, else its parent's.
    public let groupId: String
    public let artifactId: String
    /// The effective version: the pom's own, else its parent's.
    public let version: String
    /// `jar` when the pom does not say.
    public let packaging: String
    public let parent: Parent?
    public let repository: DeploymentRepository?
    public let snapshotRepository: DeploymentRepository?

    /// The repository a deploy of this version goes to: `<snapshotRepository>` for a SNAPSHOT when the pom has
    /// one, else `<repository>` (Maven's rule).
    public var deploymentRepository: DeploymentRepository? {
        if SnapshotVersion.isSnapshot(version), let snapshotRepository { return snapshotRepository }
        return repository
    }

    /// The main artifact's extension for the packaging: `jar` for jar, maven-plugin, ejb and bundle; nil for pom.
    public var mainArtifactExtension: String? {
        switch packaging {
        case "pom": return nil
        case "jar", "maven-plugin", "ejb", "ejb-client", "bundle", "java-source", "javadoc", "test-jar": return "jar"
        default: return packaging
        }
    }

    /// Reads and parses the pom at `path`.
    public static func read(path: String) throws(PomError) -> PomInfo {
        let data: Data
        do {
            data = try FileChunks.small(path)
        } catch {
            throw .unreadable(path: path, reason: error.reason)
        }
        return try parse(data, path: path)
    }

    /// Parses pom bytes; `path` names the file in errors.
    public static func parse(_ data: Data, path: String) throws(PomError) -> PomInfo {
        let root: XMLTree
        do {
            root = try XMLTree.parse(data)
        } catch {
            throw .malformed(path: path, reason: error.reason)
        }
        guard root.name == "project" else {
            throw .malformed(path: path, reason: "the root element is <\(root.name)>, not <project>")
        }
        let parent = root.child("parent").map {
            Parent(groupId: $0.value("groupId"), artifactId: $0.value("artifactId"), version: $0.value("version"))
        }
        guard let rawArtifactId = root.value("artifactId") else { throw .missing(path: path, element: "artifactId") }
        guard let rawGroupId = root.value("groupId") ?? parent?.groupId else {
            throw .missing(path: path, element: "groupId")
        }
        guard let rawVersion = root.value("version") ?? parent?.version else {
            throw .missing(path: path, element: "version")
        }
        var properties: [String: String] = [:]
        for node in root.child("properties")?.children ?? [] {
            properties[node.name] = node.text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let resolver = PropertyResolver(properties: properties, parent: parent)
        let groupId = resolver.resolve(rawGroupId, project: (rawGroupId, rawArtifactId, rawVersion))
        let version = resolver.resolve(rawVersion, project: (rawGroupId, rawArtifactId, rawVersion))
        let artifactId = resolver.resolve(rawArtifactId, project: (groupId, rawArtifactId, version))
        let project = (groupId, artifactId, version)
        let packaging = root.value("packaging").map { resolver.resolve($0, project: project) } ?? "jar"
        func repository(_ name: String) -> DeploymentRepository? {
            guard let node = root.descendant(["distributionManagement", name]) else { return nil }
            return DeploymentRepository(id: node.value("id").map { resolver.resolve($0, project: project) },
                                        url: node.value("url").map { resolver.resolve($0, project: project) })
        }
        return PomInfo(path: path, groupId: groupId, artifactId: artifactId, version: version, packaging: packaging,
                       parent: parent, repository: repository("repository"),
                       snapshotRepository: repository("snapshotRepository"))
    }
}

/// Resolves `${name}` from a pom's properties and its own coordinates, a few rounds deep.
private struct PropertyResolver {
    let properties: [String: String]
    let parent: PomInfo.Parent?

    func resolve(_ text: String, project: (groupId: String, artifactId: String, version: String)) -> String {
        var current = text
        for _ in 0..<5 where current.contains("${") {
            var output = ""
            var rest = Substring(current)
            while let open = rest.range(of: "${") {
                output += rest[..<open.lowerBound]
                guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                    output += rest[open.lowerBound...]
                    rest = ""
                    break
                }
                let name = String(rest[open.upperBound..<close])
                output += lookup(name, project: project) ?? "${\(name)}"
                rest = rest[rest.index(after: close)...]
            }
            output += rest
            if output == current { break }
            current = output
        }
        return current
    }

    private func lookup(_ name: String, project: (groupId: String, artifactId: String, version: String)) -> String? {
        switch name {
        case "project.groupId", "pom.groupId": return project.groupId
        case "project.artifactId", "pom.artifactId": return project.artifactId
        case "project.version", "pom.version": return project.version
        case "project.parent.groupId": return parent?.groupId
        case "project.parent.version": return parent?.version
        default: return properties[name]
        }
    }
}

/// A pom that cannot be read.
public enum PomError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)
    /// A required element is missing (groupId and version also have no `<parent>` fallback).
    case missing(path: String, element: String)

    public var path: String {
        switch self {
        case .unreadable(let path, _), .malformed(let path, _), .missing(let path, _): return path
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read pom \(path): \(reason)"
        case .malformed(let path, let reason):
            return "pom \(path) is not valid xml: \(reason); deploy the pom maven wrote"
        case .missing(let path, let element):
            let fallback = element == "artifactId" ? "" : " (nor in <parent>)"
            return "pom \(path) has no <\(element)>\(fallback); add it to the pom"
        }
    }
}
