import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A parsed XML element: its local name (prefix and namespace dropped), attributes, text and children.
///
/// Maven's documents (pom.xml, settings.xml, maven-metadata.xml) are small element trees with text leaves,
/// with or without a default namespace; this keeps just what reading them needs.
struct XMLTree: Sendable, Equatable {
    var name: String
    var attributes: [String: String]
    var children: [XMLTree]
    /// The element's own character data (CDATA included), not its descendants'.
    var text: String

    /// The first child named `name`.
    func child(_ name: String) -> XMLTree? {
        children.first { $0.name == name }
    }

    /// Every child named `name`, in document order.
    func children(_ name: String) -> [XMLTree] {
        children.filter { $0.name == name }
    }

    /// The trimmed text of the first child named `name`; nil when there is no such child or it is empty.
    func value(_ name: String) -> String? {
        guard let text = child(name)?.text.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else {
            return nil
        }
        return text
    }

    /// The element at a path of child names (`["distributionManagement", "repository"]`).
    func descendant(_ path: [String]) -> XMLTree? {
        var node = self
        for name in path {
            guard let next = node.child(name) else { return nil }
            node = next
        }
        return node
    }

    /// Parses a whole document; the error text says what the parser saw and where (line:column).
    /// External entities are never loaded.
    static func parse(_ data: Data) throws(XMLTreeError) -> XMLTree {
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        let builder = TreeBuilder()
        parser.delegate = builder
        let finished = parser.parse()
        if let error = builder.failure {
            throw XMLTreeError(reason: error)
        }
        guard finished, let root = builder.root else {
            let reason = parser.parserError.map { ($0 as NSError).localizedDescription } ?? "not an xml document"
            throw XMLTreeError(reason: "\(reason) at line \(parser.lineNumber), column \(parser.columnNumber)")
        }
        return root
    }
}

/// Why a document is not well-formed XML.
struct XMLTreeError: Error, Sendable {
    let reason: String
}

/// Builds `XMLTree`s from the SAX events of Foundation's `XMLParser`.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    private var stack: [XMLTree] = []
    var root: XMLTree?
    var failure: String?

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
        stack.append(XMLTree(name: local, attributes: attributeDict, children: [], text: ""))
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?) {
        guard let finished = stack.popLast() else { return }
        if stack.isEmpty {
            root = finished
        } else {
            stack[stack.count - 1].children.append(finished)
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += String(decoding: CDATABlock, as: UTF8.self)
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        if failure == nil {
            failure = "\((parseError as NSError).localizedDescription) at line \(parser.lineNumber), column \(parser.columnNumber)"
        }
    }
}

/// Writes indented XML the way Maven does: two spaces per level, one element per line, a final newline.
struct XMLWriter {
    private(set) var output = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    private var depth = 0

    /// `<name attributes>` on its own line; call `close` for it later.
    mutating func open(_ name: String, attributes: [(String, String)] = []) {
        let rendered = attributes.map { " \($0.0)=\"\(Self.escape($0.1))\"" }.joined()
        line("<\(name)\(rendered)>")
        depth += 1
    }

    mutating func close(_ name: String) {
        depth -= 1
        line("</\(name)>")
    }

    /// `<name>value</name>`; nothing when `value` is nil.
    mutating func element(_ name: String, _ value: String?) {
        guard let value else { return }
        line("<\(name)>\(Self.escape(value))</\(name)>")
    }

    private mutating func line(_ text: String) {
        output += String(repeating: "  ", count: depth) + text + "\n"
    }

    /// Escapes the five XML special characters.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
