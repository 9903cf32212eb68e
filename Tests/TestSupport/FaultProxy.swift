import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// An HTTP proxy in front of a real registry that injects faults, for resilience tests.
///
/// Faults are drawn from a seeded generator at a given rate, so a run is reproducible; every injected
/// fault is counted and logged with the request it hit. Requests to the `/v2/` ping are never faulted.
public final class FaultProxy: Sendable {
    public enum Fault: String, Sendable, CaseIterable {
        /// 429 with a `Retry-After: 0` header.
        case tooManyRequests
        /// 429 without a header, the hint in the message as ghcr.io sends it.
        case tooManyRequestsHint
        /// 503 Service Unavailable.
        case unavailable
        /// 403 "secondary rate limit".
        case secondaryRateLimit
        /// The connection is reset before the request reaches the registry.
        case reset
        /// The request reaches the registry, then the connection is reset before the answer.
        case resetAfterForward
        /// 404 BLOB_UPLOAD_UNKNOWN on the PUT that completes an upload.
        case blobUploadUnknown
        /// The answer is delayed (not a failure unless it exceeds the client's timeout).
        case delay

        /// Whether the client sees a failed request.
        public var fails: Bool { self != .delay }
    }

    public struct Injection: Sendable {
        public let fault: Fault
        public let method: String
        public let path: String
    }

    public struct Configuration: Sendable {
        public var rate: Double
        public var seed: UInt64
        public var faults: [Fault]
        public var delay: Duration

        public init(rate: Double, seed: UInt64 = 1, faults: [Fault] = Fault.allCases.filter { $0 != .delay },
                    delay: Duration = .milliseconds(200)) {
            self.rate = rate
            self.seed = seed
            self.faults = faults
            self.delay = delay
        }
    }

    private struct State {
        var random: SplitMix64
        var injections: [Injection] = []
        var requests = 0
        var configuration: Configuration
        var denied: Set<String> = []
    }

    public var port: Int { server.port }
    public var address: String { "127.0.0.1:\(port)" }
    private let upstream: String
    private let state: Mutex<State>
    private let server: LoopbackServer
    private let client: HTTPClient

    /// Starts a proxy on a free loopback port forwarding to `upstream` ("127.0.0.1:PORT").
    public static func start(upstream: String, _ configuration: Configuration) async throws -> FaultProxy {
        let proxy = FaultProxy(server: try await LoopbackServer.bind(), upstream: upstream, configuration: configuration)
        proxy.server.serve { connection in await proxy.handle(connection) }
        return proxy
    }

    private init(server: LoopbackServer, upstream: String, configuration: Configuration) {
        self.server = server
        self.upstream = upstream
        self.state = Mutex(State(random: SplitMix64(seed: configuration.seed), configuration: configuration))
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.redirectConfiguration = .disallow
        self.client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: clientConfiguration)
    }

    /// Every fault injected so far, in order.
    public var injections: [Injection] { state.withLock { $0.injections } }
    /// Requests seen so far (faulted or not).
    public var requestCount: Int { state.withLock { $0.requests } }

    /// Changes the fault rate from now on (0 turns faults off).
    public func setRate(_ rate: Double) { state.withLock { $0.configuration.rate = rate } }

    /// Answers every push request (POST, PUT, PATCH) to these repositories with 403 DENIED, as a
    /// registry does for a token without write access; reads still pass. Not counted as injections.
    public func deny(repositories: Set<String>) { state.withLock { $0.denied = repositories } }

    public func stop() async {
        await server.stop()
        try? await client.shutdown()
    }

    private func handle(_ connection: LoopbackServer.Connection) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body.clear()
                case .body(var chunk):
                    body.writeBuffer(&chunk)
                case .end:
                    guard let request = head else { continue }
                    if isDenied(request) {
                        let denied = Self.errorAnswer(request, .forbidden, "DENIED", "requested access to the resource is denied")
                        try await outbound.write(.head(denied.0))
                        try await outbound.write(.body(.byteBuffer(denied.1)))
                        try await outbound.write(.end(nil))
                        continue
                    }
                    let fault = draw(request)
                    if fault == .reset {
                        try await abort(connection.channel)
                        return
                    }
                    if fault == .delay {
                        try await Task.sleep(for: state.withLock { $0.configuration.delay })
                    }
                    let answer: (HTTPResponseHead, ByteBuffer)
                    if let fault, let canned = canned(fault, request) {
                        answer = canned
                    } else {
                        answer = try await forward(request, body: body)
                    }
                    if fault == .resetAfterForward {
                        try await abort(connection.channel)
                        return
                    }
                    try await outbound.write(.head(answer.0))
                    if answer.1.readableBytes > 0 { try await outbound.write(.body(.byteBuffer(answer.1))) }
                    try await outbound.write(.end(nil))
                }
            }
        }
    }

    /// Decides whether `request` gets a fault, and which one.
    private func draw(_ request: HTTPRequestHead) -> Fault? {
        let path = request.uri.split(separator: "?").first.map(String.init) ?? request.uri
        return state.withLock { state in
            state.requests += 1
            guard path != "/v2/", path != "/v2" else { return nil }
            let roll = state.random.nextUnit()
            guard roll < state.configuration.rate else { return nil }
            let isUploadPut = request.method == .PUT && path.contains("/blobs/uploads/")
            let candidates = state.configuration.faults.filter { $0 != .blobUploadUnknown || isUploadPut }
            guard !candidates.isEmpty else { return nil }
            let fault = candidates[Int(state.random.next() % UInt64(candidates.count))]
            state.injections.append(Injection(fault: fault, method: request.method.rawValue, path: path))
            return fault
        }
    }

    private func isDenied(_ request: HTTPRequestHead) -> Bool {
        guard [.POST, .PUT, .PATCH, .DELETE].contains(request.method) else { return false }
        let denied = state.withLock { $0.denied }
        return denied.contains { request.uri.hasPrefix("/v2/\($0)/") }
    }

    static func errorAnswer(_ request: HTTPRequestHead, _ status: HTTPResponseStatus, _ code: String, _ message: String,
                            _ extra: [(String, String)] = []) -> (HTTPResponseHead, ByteBuffer) {
        let json = #"{"errors":[{"code":"\#(code)","message":"\#(message)"}]}"#
        var headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", "\(json.utf8.count)")])
        headers.add(contentsOf: extra)
        return (HTTPResponseHead(version: request.version, status: status, headers: headers), ByteBuffer(string: json))
    }

    private func canned(_ fault: Fault, _ request: HTTPRequestHead) -> (HTTPResponseHead, ByteBuffer)? {
        func error(_ status: HTTPResponseStatus, _ code: String, _ message: String,
                   _ extra: [(String, String)] = []) -> (HTTPResponseHead, ByteBuffer) {
            Self.errorAnswer(request, status, code, message, extra)
        }
        switch fault {
        case .tooManyRequests: return error(.tooManyRequests, "TOOMANYREQUESTS", "rate limited", [("Retry-After", "0")])
        case .tooManyRequestsHint:
            return error(.tooManyRequests, "TOOMANYREQUESTS", "retry-after: 10.48ms, allowed: 2000/minute")
        case .unavailable: return error(.serviceUnavailable, "UNAVAILABLE", "service unavailable")
        case .secondaryRateLimit:
            return error(.forbidden, "DENIED", "You have exceeded a secondary rate limit. Please wait a few minutes.")
        case .blobUploadUnknown: return error(.notFound, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
        case .reset, .resetAfterForward, .delay: return nil
        }
    }

    private func forward(_ request: HTTPRequestHead, body: ByteBuffer) async throws -> (HTTPResponseHead, ByteBuffer) {
        var outgoing = HTTPClientRequest(url: "http://\(upstream)\(request.uri)")
        outgoing.method = request.method
        for (name, value) in request.headers where !Self.hopByHop.contains(name.lowercased()) {
            outgoing.headers.add(name: name, value: value)
        }
        if body.readableBytes > 0 || request.method == .PUT || request.method == .POST || request.method == .PATCH {
            outgoing.body = .bytes(body)
        }
        let response = try await client.execute(outgoing, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        var headers = HTTPHeaders()
        for (name, value) in response.headers where !Self.hopByHop.contains(name.lowercased()) {
            if name.lowercased() == "location" {
                headers.add(name: name, value: value.replacingOccurrences(of: "//\(upstream)/", with: "//\(address)/"))
            } else if name.lowercased() != "content-length" {
                headers.add(name: name, value: value)
            }
        }
        if request.method == .HEAD {
            if let length = response.headers.first(name: "content-length") { headers.add(name: "Content-Length", value: length) }
        } else {
            headers.add(name: "Content-Length", value: "\(bytes.readableBytes)")
        }
        return (HTTPResponseHead(version: request.version, status: response.status, headers: headers), bytes)
    }

    /// Closes with a TCP reset (SO_LINGER 0) so the client sees "connection reset by peer".
    private func abort(_ channel: Channel) async throws {
        try? await (channel as? SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        try? await channel.close()
    }

    private static let hopByHop: Set<String> = ["connection", "keep-alive", "transfer-encoding", "host", "te", "trailer",
                                                "upgrade", "proxy-connection", "content-length"]
}

/// A small, fast, seedable generator (SplitMix64), so fault sequences are reproducible.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform number in `0..<1`.
    mutating func nextUnit() -> Double {
        Double(next() >> 11) / Double(1 << 53)
    }
}
