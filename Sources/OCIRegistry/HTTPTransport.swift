/// One HTTP request as the registry client builds it: the seam between protocol logic and the network.
///
/// Unit tests answer these with an in-process fake; production uses ``AsyncHTTPClientTransport``.
public struct HTTPRequestSpec: Sendable {
    /// "GET", "HEAD", "POST", "PUT", "PATCH" or "DELETE".
    public var method: String
    /// Absolute URL.
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// The first header called `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveEquals(name) }?.value
    }
}

/// A complete HTTP answer (the body is collected in memory).
public struct HTTPResponseSpec: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header called `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    /// Every value of the header called `name` (case-insensitive), in order.
    public func headers(named name: String) -> [String] {
        headers.filter { $0.name.caseInsensitiveEquals(name) }.map(\.value)
    }
}

/// Sends HTTP requests. Implementations throw ``TransportError`` for network failures and
/// `CancellationError` when the task is cancelled; any HTTP status is a normal answer.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequestSpec) async throws -> HTTPResponseSpec
}

/// A request that got no HTTP answer.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Could not connect: refused, unreachable, DNS failure, connect timeout.
        case connect
        /// The connection broke mid-request: reset, closed by the peer, broken pipe.
        case reset
        /// No complete answer before the deadline.
        case timeout
        /// TLS handshake or certificate failure.
        case tls
        case other
    }

    public let kind: Kind
    /// One lowercase line; never contains credentials.
    public let message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

extension String {
    /// ASCII case-insensitive comparison, cheap enough for header lookups.
    func caseInsensitiveEquals(_ other: String) -> Bool {
        let lhs = utf8, rhs = other.utf8
        guard lhs.count == rhs.count else { return false }
        return zip(lhs, rhs).allSatisfy { a, b in
            a == b || (a | 0x20 == b | 0x20 && (a | 0x20) >= UInt8(ascii: "a") && (a | 0x20) <= UInt8(ascii: "z"))
        }
    }
}
