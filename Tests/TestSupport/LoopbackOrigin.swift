import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// "Another host" for redirect tests: a loopback HTTP server that records the head of every request it
/// receives (to check, say, that no `Authorization` header followed a redirect) and answers GET/HEAD by
/// fetching the same request target from `upstream` without credentials, as a registry's storage host
/// serves blobs; without an upstream it answers 200 `origin`.
public final class LoopbackOrigin: Sendable {
    public var port: Int { server.port }
    /// `http://HOST:PORT`, the base URL for `FaultProxy.Action.redirect(to:)`.
    public var baseURL: String { "http://\(host):\(port)" }
    public let host: String
    private let upstream: String?
    private let server: LoopbackServer
    private let client: HTTPClient
    private let received = Mutex<[FaultProxy.RecordedRequest]>([])

    /// Starts on a free port of `host` (127.0.0.1 by default), forwarding to `upstream` ("127.0.0.1:PORT") if given.
    public static func start(upstream: String? = nil, host: String = "127.0.0.1") async throws -> LoopbackOrigin {
        let origin = LoopbackOrigin(server: try await LoopbackServer.bind(host: host), host: host, upstream: upstream)
        origin.server.serve { connection in await origin.handle(connection) }
        return origin
    }

    private init(server: LoopbackServer, host: String, upstream: String?) {
        self.server = server
        self.host = host
        self.upstream = upstream
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    /// Every request received so far, oldest first.
    public var receivedRequests: [FaultProxy.RecordedRequest] { received.withLock { $0 } }

    public func stop() async {
        await server.stop()
        try? await client.shutdown()
    }

    private func handle(_ connection: LoopbackServer.Connection) async {
        try? await connection.executeThenClose { inbound, outbound in
            var request: HTTPRequestHead?
            for try await part in inbound {
                switch part {
                case .head(let head):
                    request = head
                    received.withLock { $0.append(FaultProxy.RecordedRequest(head)) }
                case .body:
                    continue
                case .end:
                    guard let head = request else { continue }
                    let (status, headers, body) = try await answer(head)
                    try await outbound.write(.head(HTTPResponseHead(version: head.version, status: status, headers: headers)))
                    if head.method != .HEAD, body.readableBytes > 0 { try await outbound.write(.body(.byteBuffer(body))) }
                    try await outbound.write(.end(nil))
                }
            }
        }
    }

    private func answer(_ head: HTTPRequestHead) async throws -> (HTTPResponseStatus, HTTPHeaders, ByteBuffer) {
        guard let upstream, head.method == .GET || head.method == .HEAD else {
            let body = ByteBuffer(string: "origin")
            return (.ok, ["Content-Type": "text/plain", "Content-Length": "\(body.readableBytes)"], body)
        }
        var outgoing = HTTPClientRequest(url: "http://\(upstream)\(head.uri)")
        outgoing.method = head.method
        for name in ["Accept", "Range", "User-Agent"] {
            for value in head.headers[name] { outgoing.headers.add(name: name, value: value) }
        }
        let response = try await client.execute(outgoing, timeout: .seconds(120))
        let body = try await response.body.collect(upTo: 512 << 20)
        var headers = HTTPHeaders()
        for (name, value) in response.headers where !["content-length", "transfer-encoding", "connection"].contains(name.lowercased()) {
            headers.add(name: name, value: value)
        }
        headers.add(name: "Content-Length", value: head.method == .HEAD
                    ? response.headers.first(name: "content-length") ?? "0" : "\(body.readableBytes)")
        return (response.status, headers, body)
    }
}
