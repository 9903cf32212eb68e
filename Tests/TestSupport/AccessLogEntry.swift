/// One request as the registry's access log (Apache combined format) records it:
/// `127.0.0.1 - - [25/Nov/2025:03:50:34 +0000] "GET /v2/x/manifests/y?a=b HTTP/1.1" 404 91 "" "curl/7.88.1"`.
public struct AccessLogEntry: Sendable, Hashable, CustomStringConvertible {
    public let method: String
    /// The request target as logged, query included: `/v2/ns/name/blobs/uploads/?mount=sha256:...&from=ns/other`.
    public let path: String
    public let status: Int
    /// The `User-Agent` header ("" when absent), to tell the tool's requests from skopeo's or a fixture's.
    public let userAgent: String

    public init(method: String, path: String, status: Int, userAgent: String = "") {
        self.method = method
        self.path = path
        self.status = status
        self.userAgent = userAgent
    }

    /// The path without the query string.
    public var pathWithoutQuery: String {
        path.firstIndex(of: "?").map { String(path[..<$0]) } ?? path
    }

    /// The query string without the `?` ("" when there is none).
    public var query: String {
        path.firstIndex(of: "?").map { String(path[path.index(after: $0)...]) } ?? ""
    }

    public var description: String { "\(method) \(path) \(status)" }

    /// Parses one line; nil for anything that is not a complete access-log line.
    public init?(line: Substring) {
        // The request line is the first quoted field; the status follows it.
        guard let open = line.firstIndex(of: "\"") else { return nil }
        let afterOpen = line.index(after: open)
        guard let close = line[afterOpen...].firstIndex(of: "\"") else { return nil }
        let request = line[afterOpen..<close].split(separator: " ", omittingEmptySubsequences: true)
        guard request.count >= 2 else { return nil }
        let rest = line[line.index(after: close)...].split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard let statusField = rest.first, let status = Int(statusField) else { return nil }
        // Then: size, "referer", "user agent".
        var agent = ""
        if rest.count == 3 {
            let quoted = rest[2].split(separator: "\"", omittingEmptySubsequences: false)
            // `"referer" "agent"` splits into ["", referer, " ", agent, ""].
            if quoted.count >= 5 { agent = String(quoted[3]) }
        }
        self.init(method: String(request[0]), path: String(request[1]), status: status, userAgent: agent)
    }

    /// Parses a whole log, skipping lines that are not access-log lines and a last line still being written.
    public static func parse(_ text: String) -> [AccessLogEntry] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()  // "" after the final newline, or an unfinished line
        return lines.compactMap { AccessLogEntry(line: $0) }
    }
}
