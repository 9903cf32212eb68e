import Foundation

/// A `maven-metadata.xml` that cannot be used; `source` is the file or URL it came from.
public enum MetadataError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not well-formed XML, or the root element is not `<metadata>`.
    case malformed(source: String, reason: String)
    /// A required element is missing or empty.
    case missingElement(source: String, element: String)
    /// An element holds a value of the wrong kind (a build number that is not a number).
    case invalidValue(source: String, element: String, value: String)
    /// The document is about another artifact or version than the one being published.
    case otherArtifact(source: String, expected: String, found: String)

    public var description: String {
        switch self {
        case .malformed(let source, let reason):
            return "maven metadata \(source) is not valid: \(reason); fix or delete the file on the server"
        case .missingElement(let source, let element):
            return "maven metadata \(source) has no <\(element)>; fix or delete the file on the server"
        case .invalidValue(let source, let element, let value):
            return "maven metadata \(source) has <\(element)>\(value)</\(element)>, which is not valid; "
                + "fix or delete the file on the server"
        case .otherArtifact(let source, let expected, let found):
            return "maven metadata \(source) is about \(found), not \(expected); the repository layout on the server "
                + "is inconsistent: fix or delete that file"
        }
    }

    /// The `<metadata>` root of `data`.
    static func root(of data: Data, source: String) throws(MetadataError) -> XMLTree {
        let root: XMLTree
        do {
            root = try XMLTree.parse(data)
        } catch {
            throw .malformed(source: source, reason: error.reason)
        }
        guard root.name == "metadata" else {
            throw .malformed(source: source, reason: "the root element is <\(root.name)>, not <metadata>")
        }
        return root
    }
}
