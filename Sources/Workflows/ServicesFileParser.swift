import Foundation
import ImageSources
import OCI
import Yams

/// Walks the YAML node tree of a services file and collects every problem with its line.
struct ServicesFileParser {
    struct Parsed {
        var registry: RegistryHost?
        var namespace: String?
        var services: [ServicesFile.Service]
        var source: String?
        var placeholder: ImageSourceReference?
    }

    let path: String
    private(set) var problems: [ServicesFileError.Problem] = []
    private static let serviceKeys = "name, tags, image, source"

    init(path: String) { self.path = path }

    mutating func parse(_ root: Node?) -> Parsed? {
        guard let root, case let .mapping(top) = root else {
            fail(root?.mark?.line ?? 1, "expected a mapping with 'registry', 'namespace', 'tags' and 'services'")
            return nil
        }
        var registry: RegistryHost?
        var namespace: String?
        var defaultTags: [OCI.Tag] = []
        var defaultTagsLine = top.mark?.line ?? 1
        var servicesNode: Node?
        var source: String?
        var placeholder: ImageSourceReference?
        for (keyNode, value) in top {
            let key = keyNode.string ?? ""
            let line = keyNode.mark?.line ?? 1
            switch key {
            case "registry":
                guard let text = scalar(value, "registry") else { continue }
                do { registry = try RegistryHost(parsing: text) } catch { fail(line, "invalid registry '\(text)': \(error.message)") }
            case "namespace":
                guard let text = scalar(value, "namespace") else { continue }
                namespace = text.isEmpty ? nil : text
                if let namespace { validateNamespace(namespace, line: line) }
            case "tags":
                defaultTags = tags(value)
                defaultTagsLine = line
            case "services":
                servicesNode = value
            case "source":
                source = repositoryURL(value, line: line)
            case "placeholder":
                placeholder = imageSource(value, key: "placeholder")
            default:
                fail(line, "unknown key '\(key)' (expected one of: registry, namespace, tags, source, placeholder, services)")
            }
        }
        if defaultTags.isEmpty && !problems.contains(where: { $0.line == defaultTagsLine }) {
            defaultTags = [try! OCI.Tag(validating: "latest")]
        }
        guard let servicesNode else {
            fail(top.mark?.line ?? 1, "missing 'services': list the services to provision")
            return nil
        }
        let services = parseServices(servicesNode, namespace: namespace, defaultTags: defaultTags, source: source)
        return Parsed(registry: registry, namespace: namespace, services: services, source: source,
                      placeholder: placeholder)
    }

    private mutating func parseServices(_ node: Node, namespace: String?, defaultTags: [OCI.Tag],
                                        source fileSource: String?) -> [ServicesFile.Service] {
        guard case let .sequence(list) = node else {
            fail(node.mark?.line ?? 1, "'services' must be a list of names or {name, tags} entries")
            return []
        }
        if list.isEmpty { fail(node.mark?.line ?? 1, "'services' is empty: nothing to provision") }
        var services: [ServicesFile.Service] = []
        var firstLine: [String: Int] = [:]
        for entry in list {
            let line = entry.mark?.line ?? 1
            var name: String?
            var tagList = defaultTags
            var image: ImageSourceReference?
            var source = fileSource
            switch entry {
            case .scalar:
                name = entry.string
            case let .mapping(fields):
                for (keyNode, value) in fields {
                    let key = keyNode.string ?? ""
                    switch key {
                    case "name": name = scalar(value, "name")
                    case "tags": tagList = tags(value)
                    case "image": image = imageSource(value)
                    case "source": source = repositoryURL(value, line: keyNode.mark?.line ?? line)
                    default: fail(keyNode.mark?.line ?? line, "unknown key '\(key)' in service entry (expected: \(Self.serviceKeys))")
                    }
                }
                if name == nil { fail(line, "service entry without 'name'") }
            default:
                fail(line, "a service must be a name or a mapping with 'name' and 'tags'")
            }
            guard let name else { continue }
            let full = namespace.map { "\($0)/\(name)" } ?? name
            let repository: RepositoryName
            do {
                repository = try RepositoryName(validating: full)
            } catch {
                fail(line, "invalid service '\(name)': \(error.message)")
                continue
            }
            if let earlier = firstLine[repository.value] {
                fail(line, "duplicate service '\(name)' (first listed on line \(earlier))")
                continue
            }
            firstLine[repository.value] = line
            services.append(.init(name: name, repository: repository, tags: tagList, line: line, image: image, source: source))
        }
        return services
    }

    private mutating func tags(_ node: Node) -> [OCI.Tag] {
        let line = node.mark?.line ?? 1
        let items: [Node]
        switch node {
        case .scalar: items = [node]
        case let .sequence(list): items = Array(list)
        default:
            fail(line, "'tags' must be a list of tags, e.g. [latest, \"0.1.0\"]")
            return []
        }
        if items.isEmpty { fail(line, "'tags' is empty: give at least one tag") }
        var result: [OCI.Tag] = []
        for item in items {
            guard let text = scalar(item, "tag") else { continue }
            do {
                let tag = try OCI.Tag(validating: text)
                if result.contains(tag) {
                    fail(item.mark?.line ?? line, "duplicate tag '\(text)'")
                } else {
                    result.append(tag)
                }
            } catch {
                fail(item.mark?.line ?? line, "invalid tag '\(text)': \(error.message)")
            }
        }
        return result
    }

    /// An `image:` value: an image source reference, relative paths resolved against the file's directory.
    private mutating func imageSource(_ node: Node, key: String = "image") -> ImageSourceReference? {
        guard let text = scalar(node, key) else { return nil }
        do {
            return try ImageSourceReference.parse(text, relativeTo: (path as NSString).deletingLastPathComponent)
        } catch {
            fail(node.mark?.line ?? 1, "invalid \(key) '\(text)': \(error.problem)")
            return nil
        }
    }

    /// A `source:` value: `https://github.com/OWNER/REPO` (any https URL of a repository).
    private mutating func repositoryURL(_ node: Node, line: Int) -> String? {
        guard let text = scalar(node, "source") else { return nil }
        guard text.hasPrefix("https://"), !text.contains(" "), text.count <= 512 else {
            fail(line, "invalid source '\(text)': give the repository's https url, e.g. https://github.com/OWNER/REPO")
            return nil
        }
        return text
    }

    private mutating func validateNamespace(_ namespace: String, line: Int) {
        do {
            _ = try RepositoryName(validating: namespace)
        } catch {
            fail(line, "invalid namespace '\(namespace)': \(error.message)")
        }
    }

    private mutating func scalar(_ node: Node, _ what: String) -> String? {
        guard case .scalar = node, let text = node.string else {
            fail(node.mark?.line ?? 1, "'\(what)' must be a single value")
            return nil
        }
        return text
    }

    private mutating func fail(_ line: Int, _ message: String) {
        problems.append(.init(line: line, message: message))
    }
}
