/// Sends HTTP requests: the seam between protocol clients (OCI distribution, Maven repositories) and the network.
///
/// Implementations throw ``TransportError`` for failures without an HTTP answer and `CancellationError` when the
/// task is cancelled; any HTTP status is a normal answer. Middleware (metering, throttling, logging) wraps a
/// transport and is itself one, so a client sees a single `send`.
public protocol HTTPTransport: Sendable {
    func send(_ request: TransportRequest) async throws -> TransportResponse
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
        /// The request body could not be produced (a file that vanished, a digest that did not match).
        case body
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
