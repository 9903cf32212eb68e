import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOSSL

/// Which server certificates an HTTPS connection trusts.
public enum TLSTrust: Sendable, Equatable {
    /// The system trust store.
    case system
    /// Only the certificates in this PEM file (a private CA).
    case certificateFile(String)
    /// Any certificate: verification is off. Only when asked for, and recorded with the run.
    case insecureSkipVerify

    /// How the run record names it.
    public var name: String {
        switch self {
        case .system: "system"
        case .certificateFile: "ca_cert"
        case .insecureSkipVerify: "insecure_skip_verify"
        }
    }
}

/// The production transport: one shared `HTTPClient` with an HTTP/1.1 keep-alive pool.
///
/// Redirects are followed (AsyncHTTPClient drops `Authorization` when a redirect changes origin).
/// A failed connection attempt fails the request at once instead of waiting out the deadline, so an
/// unreachable registry is reported quickly; retries are the caller's policy.
/// Call ``shutdown()`` once the transport is no longer needed.
public final class AsyncHTTPClientTransport: HTTPTransport {
    /// Larger answers are refused: registry answers here are manifests, tag lists and errors.
    static let maxBodyBytes = 16 << 20

    private let client: HTTPClient
    private let timeout: TimeAmount

    /// - Parameters:
    ///   - timeout: deadline for one whole request, body included.
    ///   - maxConnectionsPerHost: soft limit of pooled HTTP/1.1 connections per host.
    ///   - trust: which server certificates HTTPS connections accept.
    public init(timeout: Duration = .seconds(60), maxConnectionsPerHost: Int = 16, trust: TLSTrust = .system) {
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        self.timeout = .nanoseconds(max(1, nanoseconds))

        var configuration = HTTPClient.Configuration()
        configuration.httpVersion = .http1Only
        configuration.redirectConfiguration = .follow(max: 5, allowCycles: false)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(1, maxConnectionsPerHost)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .nanoseconds(min(max(1, nanoseconds), 10_000_000_000))
        var tls = TLSConfiguration.makeClientConfiguration()
        switch trust {
        case .system: break
        case .certificateFile(let path): tls.trustRoots = .file(path)
        case .insecureSkipVerify: tls.certificateVerification = .none
        }
        configuration.tlsConfiguration = tls
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Closes the pooled connections.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    public func send(_ request: HTTPRequestSpec) async throws -> HTTPResponseSpec {
        try Task.checkCancellation()
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        var headers = HTTPHeaders()
        headers.reserveCapacity(request.headers.count)
        for header in request.headers { headers.add(name: header.name, value: header.value) }
        outgoing.headers = headers
        if let body = request.body {
            outgoing.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await client.execute(outgoing, timeout: timeout)
            let collected = try await response.body.collect(upTo: Self.maxBodyBytes)
            var answer = HTTPResponseSpec(status: Int(response.status.code))
            answer.headers = response.headers.map { (name: $0.name, value: $0.value) }
            answer.body = collected.readableBytesView.isEmpty ? [] : Array(collected.readableBytesView)
            return answer
        } catch {
            if Task.isCancelled || error is CancellationError { throw CancellationError() }
            throw TransportErrorMapping.map(error, url: request.url)
        }
    }
}
