/// Just enough URL handling for registry and repository traffic: split an absolute http(s) URL, resolve `Location` and
/// `Link` targets against the request URL, append query parameters, percent-encode values.
///
/// Upload locations may be absolute or relative
/// (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-blobs), so the client
/// resolves them like a browser would.
public struct URLParts: Equatable, Sendable {
    /// `http` or `https`, lowercase.
    public var scheme: String
    /// `host[:port]` as written (userinfo removed).
    public var authority: String
    /// Path and query, always starting with `/`; the fragment is dropped.
    public var pathAndQuery: String

    /// Splits an absolute `http(s)://` URL; nil for anything else.
    public init?(_ url: String) {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        guard !authority.isEmpty else { return nil }
        var tail = rest[authorityEnd...]
        if let hash = tail.firstIndex(of: "#") { tail = tail[..<hash] }
        self.scheme = scheme
        self.authority = String(authority)
        self.pathAndQuery = tail.first == "/" ? String(tail) : "/" + tail
    }

    /// `scheme://authority` followed by the path and query.
    public var absolute: String { "\(scheme)://\(authority)\(pathAndQuery)" }

    /// The path without the query.
    public var path: Substring {
        pathAndQuery.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }

    /// The host without the port or IPv6 brackets, lowercase.
    public var host: String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return authority[authority.index(after: authority.startIndex)..<close].lowercased()
        }
        return (authority.split(separator: ":", maxSplits: 1).first.map(String.init) ?? authority).lowercased()
    }

    /// Same scheme, host and port (default ports made explicit).
    public func sameOrigin(as other: URLParts) -> Bool {
        scheme == other.scheme && normalizedAuthority == other.normalizedAuthority
    }

    private var normalizedAuthority: String {
        let lower = authority.lowercased()
        if lower.hasSuffix("]") || !lower.contains(":") { return lower + (scheme == "https" ? ":443" : ":80") }
        return lower
    }

    /// Resolves `reference` (absolute URL, `//authority/path`, `/path` or a relative path) against `base`.
    public static func resolve(_ reference: String, against base: String) -> String? {
        let reference = reference.trimmingASCIISpaces()
        if let absolute = URLParts(reference) { return absolute.absolute }
        guard let base = URLParts(base), !reference.isEmpty else { return nil }
        if reference.hasPrefix("//") { return URLParts("\(base.scheme):\(reference)")?.absolute }
        if reference.hasPrefix("/") { return "\(base.scheme)://\(base.authority)\(reference)" }
        if reference.hasPrefix("?") { return "\(base.scheme)://\(base.authority)\(base.path)\(reference)" }
        let directory = base.path.lastIndex(of: "/").map { base.path[...$0] } ?? "/"
        return "\(base.scheme)://\(base.authority)\(directory)\(reference)"
    }

    /// Appends `name=value` (already encoded) with `?` or `&` as the URL needs.
    public static func appendingQuery(_ url: String, _ name: String, _ value: String) -> String {
        let separator: String
        if !url.contains("?") {
            separator = "?"
        } else if url.hasSuffix("?") || url.hasSuffix("&") {
            separator = ""
        } else {
            separator = "&"
        }
        return "\(url)\(separator)\(name)=\(value)"
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters (and `extra`).
    public static func encode(_ text: String, keeping extra: String = "") -> String {
        let keep = Set(extra.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            let unreserved = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
            if unreserved || keep.contains(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension StringProtocol {
    /// Drops leading and trailing spaces and tabs (no Foundation needed).
    public func trimmingASCIISpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = lastIndex(where: { !isSpace($0) })!
        return String(self[start...end])
    }
}
