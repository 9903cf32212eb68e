import AsyncHTTPClient
import HTTPTypes
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
/// Bodies stream in both directions. Redirects are followed (AsyncHTTPClient drops `Authorization` when a
/// redirect changes origin). A failed connection attempt fails the request at once instead of waiting out the
/// deadline, so an unreachable server is reported quickly; retries are the caller's policy.
/// Call ``shutdown()`` once the transport is no longer needed.
public final class AsyncHTTPClientTransport: HTTPTransport {
    private let client: HTTPClient
    private let timeout: TimeAmount

    /// - Parameters:
    ///   - timeout: deadline for one whole request, body included (a request may ask for a longer one).
    ///   - maxConnectionsPerHost: soft limit of pooled HTTP/1.1 connections per host.
    ///   - trust: which server certificates HTTPS connections accept.
    public init(timeout: Duration = .seconds(60), maxConnectionsPerHost: Int = 16, trust: TLSTrust = .system) {
        self.timeout = Self.amount(timeout)
        var configuration = HTTPClient.Configuration()
        configuration.httpVersion = .http1Only
        configuration.redirectConfiguration = .follow(max: 5, allowCycles: false)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(1, maxConnectionsPerHost)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .nanoseconds(min(self.timeout.nanoseconds, 10_000_000_000))
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

    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        try Task.checkCancellation()
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        var headers = HTTPHeaders()
        headers.reserveCapacity(request.headerFields.count)
        for field in request.headerFields { headers.add(name: field.name.rawName, value: field.value) }
        outgoing.headers = headers
        if let body = request.body {
            if let buffer = body.buffer {
                outgoing.body = .bytes(buffer)
            } else {
                let length: HTTPClientRequest.Body.Length = switch body.length {
                case .known(let count): .known(count)
                case .unknown: .unknown
                }
                outgoing.body = .stream(body.chunks(), length: length)
            }
        }
        do {
            let response = try await client.execute(outgoing, timeout: request.timeout.map(Self.amount) ?? timeout)
            var fields = HTTPFields()
            for header in response.headers {
                if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
            }
            let url = request.url
            return TransportResponse(status: Int(response.status.code), headerFields: fields,
                                     body: ResponseBody(MappedBody(base: response.body, url: url).chunks))
        } catch {
            if Task.isCancelled || error is CancellationError { throw CancellationError() }
            throw TransportErrorMapping.map(error, url: request.url)
        }
    }

    private static func amount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(max(1, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }
}

/// A response body whose failures are reported as ``TransportError``s, like the request's.
private struct MappedBody: Sendable {
    let base: HTTPClientResponse.Body
    let url: String

    var chunks: ByteChunks {
        ByteChunks { [base, url] in
            var iterator = base.makeAsyncIterator()
            return {
                do {
                    return try await iterator.next()
                } catch {
                    if Task.isCancelled || error is CancellationError { throw CancellationError() }
                    throw TransportErrorMapping.map(error, url: url)
                }
            }
        }
    }
}
