/// One request as `MavenRepositoryFixture`'s nginx logs it (tab-separated fields, nginx-escaped values):
/// time, request line, status, request length, bytes sent, Authorization present (1/0), user,
/// Expect header, Content-Length, Transfer-Encoding, connection number, request number on it, user agent.
public struct MavenAccessLogEntry: Sendable, Hashable, CustomStringConvertible {
    /// Seconds since 1970 with milliseconds (`$msec`), when the response was finished.
    public let time: Double
    /// The method the client sent (`PUT`), even for answers nginx produced through an internal redirect.
    public let method: String
    /// The request target as sent (`/com/example/greeter/1.0.0/greeter-1.0.0.jar`).
    public let uri: String
    public let status: Int
    /// Bytes read from the client: request line, headers and whatever body nginx read.
    public let requestLength: Int
    public let bytesSent: Int
    /// Whether the request carried an `Authorization` header (valid or not).
    public let authorizationPresent: Bool
    /// The Basic user name sent, verified or not; nil without credentials.
    public let user: String?
    /// The `Expect` header (`100-continue`), nil when absent.
    public let expect: String?
    /// The `Content-Length` header, nil when absent (as for a chunked body).
    public let contentLength: Int?
    /// The `Transfer-Encoding` header, nil when absent.
    public let transferEncoding: String?
    /// nginx's connection serial number: requests with the same number shared a connection.
    public let connection: Int
    /// The position of this request on its connection (1 for the first).
    public let connectionRequests: Int
    public let userAgent: String

    public var description: String { "\(method) \(uri) \(status)" }

    /// The `log_format` that writes these lines.
    static let logFormat = "$msec\\t$request\\t$status\\t$request_length\\t$bytes_sent\\t$stevedore_auth_present\\t"
        + "$remote_user\\t$http_expect\\t$http_content_length\\t$http_transfer_encoding\\t$connection\\t"
        + "$connection_requests\\t$http_user_agent"

    /// Parses one line; nil for anything else.
    public init?(line: Substring) {
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 13, let time = Double(fields[0]), let status = Int(fields[2]),
              let requestLength = Int(fields[3]), let bytesSent = Int(fields[4]),
              let connection = Int(fields[10]), let connectionRequests = Int(fields[11]) else { return nil }
        let request = fields[1].split(separator: " ")
        guard request.count >= 2 else { return nil }
        func optional(_ value: String) -> String? { value == "-" || value.isEmpty ? nil : value }
        self.time = time
        self.method = String(request[0])
        self.uri = String(request[1])
        self.status = status
        self.requestLength = requestLength
        self.bytesSent = bytesSent
        self.authorizationPresent = fields[5] == "1"
        self.user = optional(fields[6])
        self.expect = optional(fields[7])
        self.contentLength = optional(fields[8]).flatMap { Int($0) }
        self.transferEncoding = optional(fields[9])
        self.connection = connection
        self.connectionRequests = connectionRequests
        self.userAgent = optional(fields[12]) ?? ""
    }

    /// Parses a whole log, skipping a last line still being written.
    public static func parse(_ text: String) -> [MavenAccessLogEntry] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()
        return lines.compactMap { MavenAccessLogEntry(line: $0) }
    }
}
