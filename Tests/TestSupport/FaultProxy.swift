import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// An HTTP proxy in front of a real registry that injects faults, for resilience tests.
///
/// Random faults are drawn from a seeded generator at a given rate, so a run is reproducible; every injected
/// fault is counted and logged with the request it hit. Requests to the `/v2/` ping are never faulted.
/// Targeted rules (`install`), a chunk cap and a pull budget act on chosen requests, deterministically,
/// before the random faults; see FaultProxyRules.swift. Every request's head is recorded (`receivedRequests`).
///
/// Bodies: a request body up to 1 MiB (and an answer up to 1 MiB) is buffered, then forwarded; larger ones
/// are streamed through with at most a few MiB in flight, so hundreds of MB pass without being held whole.
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
        /// A rule reset the connection in the middle of the request body.
        case resetMidBody
        /// A rule answered with its own status (and OCI error).
        case answered
        /// The chunk cap answered 416 REQUESTED_RANGE_NOT_SATISFIABLE.
        case chunkTooLarge
        /// The pull budget was used up: 429 TOOMANYREQUESTS.
        case pullLimitExceeded
        /// A rule redirected the request (307) to another host.
        case redirect
        /// A rule cut the answer's body short with a reset (a download broken in the middle).
        case resetMidAnswer

        /// Whether the client sees a failed request.
        public var fails: Bool { self != .delay && self != .redirect }

        /// The faults drawn at random by default (rule-only faults are never drawn unless listed).
        public static let random: [Fault] = [.tooManyRequests, .tooManyRequestsHint, .unavailable, .secondaryRateLimit,
                                             .reset, .resetAfterForward, .blobUploadUnknown]
    }

    public struct Injection: Sendable {
        public let fault: Fault
        public let method: String
        public let path: String
        /// The index of the rule (in installation order) that injected it; nil for random faults,
        /// the chunk cap and the pull budget.
        public let rule: Int?
    }

    public struct Configuration: Sendable {
        public var rate: Double
        public var seed: UInt64
        public var faults: [Fault]
        public var delay: Duration
        /// Added before every request is forwarded or answered (a remote registry's round trip), faulted or not.
        public var latency: Duration

        public init(rate: Double, seed: UInt64 = 1, faults: [Fault] = Fault.random,
                    delay: Duration = .milliseconds(200), latency: Duration = .zero) {
            self.rate = rate
            self.seed = seed
            self.faults = faults
            self.delay = delay
            self.latency = latency
        }
    }

    struct InstalledRule {
        var rule: Rule
        var seen = 0
    }

    struct State {
        var random: SplitMix64
        var injections: [Injection] = []
        var requests = 0
        var configuration: Configuration
        var denied: Set<String> = []
        var rules: [InstalledRule] = []
        var chunkCap: ChunkCap?
        var pullBudget: PullBudget?
        var dateShift: Int?
        var received: [RecordedRequest] = []
    }

    public var port: Int { server.port }
    public var address: String { "127.0.0.1:\(port)" }
    let upstream: String
    let state: Mutex<State>
    private let server: LoopbackServer
    let client: HTTPClient

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
    /// Requests seen so far (faulted or not; answers to denied repositories are not counted).
    public var requestCount: Int { state.withLock { $0.requests } }
    /// The head of every request received so far, in arrival order.
    public var receivedRequests: [RecordedRequest] { state.withLock { $0.received } }

    /// Changes the fault rate from now on (0 turns faults off).
    public func setRate(_ rate: Double) { state.withLock { $0.configuration.rate = rate } }

    /// Changes the latency added to every request from now on.
    public func setLatency(_ latency: Duration) { state.withLock { $0.configuration.latency = latency } }

    /// Answers every push request (POST, PUT, PATCH) to these repositories with 403 DENIED, as a
    /// registry does for a token without write access; reads still pass. Not counted as injections.
    public func deny(repositories: Set<String>) { state.withLock { $0.denied = repositories } }

    /// Adds a targeted rule; returns its index (as `Injection.rule` reports it). Rules are checked in
    /// installation order and the first whose match is due acts; every matching rule counts the request.
    @discardableResult
    public func install(_ rule: Rule) -> Int {
        state.withLock { state in
            state.rules.append(InstalledRule(rule: rule))
            return state.rules.count - 1
        }
    }

    /// Removes every rule (their indexes are not reused while the proxy runs: injections keep theirs).
    public func removeRules() {
        state.withLock { state in
            for index in state.rules.indices { state.rules[index].rule.match.count = 0 }
        }
    }

    /// Sets (or with nil, removes) ghcr.io's chunk cap on PATCH bodies.
    public func setChunkCap(_ cap: ChunkCap?) { state.withLock { $0.chunkCap = cap } }

    /// Sets (or with nil, removes) a Docker Hub-style pull budget on manifest requests.
    public func setPullBudget(_ budget: PullBudget?) { state.withLock { $0.pullBudget = budget } }

    /// Rewrites the `Date` header of every answer to the real time plus `seconds` (negative: a server whose clock is
    /// behind); nil passes the upstream's header through.
    public func setDateShift(seconds: Int?) { state.withLock { $0.dateShift = seconds } }

    /// The pulls left in the budget.
    public var pullBudgetRemaining: Int? { state.withLock { $0.pullBudget?.remaining } }

    public func stop() async {
        await server.stop()
        try? await client.shutdown()
    }

    // MARK: Decisions

    /// What happens to a request whose body has been read (or, for a large body, its first MiB).
    enum Decision {
        case forward(resetAfter: Bool, extraHeaders: [(String, String)])
        case answer(HTTPResponseHead, [UInt8])
        case reset
    }

    /// The decision for a request the plan left to `deny` and the random faults (`.normal`, `.forwardAdding`),
    /// or a plan's own answer.
    func decide(_ request: HTTPRequestHead, _ plan: Plan) async throws -> Decision {
        let latency = state.withLock { $0.configuration.latency }
        if latency > .zero { try await Task.sleep(for: latency) }
        switch plan {
        case .answer(let head, let body, let fault, let rule):
            record(fault, request, rule: rule)
            return .answer(head, body)
        case .reset, .capped, .normal, .forwardAdding, .cutAnswer:
            break
        }
        if isDenied(request) {
            let denied = Self.answer(request, status: 403, code: "DENIED", message: "requested access to the resource is denied")
            return .answer(denied.0, denied.1)
        }
        let fault = draw(request)
        if fault == .reset { return .reset }
        if fault == .delay { try await Task.sleep(for: state.withLock { $0.configuration.delay }) }
        if let fault, let canned = canned(fault, request) { return .answer(canned.0, canned.1) }
        if case .forwardAdding(let headers) = plan { return .forward(resetAfter: fault == .resetAfterForward, extraHeaders: headers) }
        return .forward(resetAfter: fault == .resetAfterForward, extraHeaders: [])
    }

    func record(_ fault: Fault, _ request: HTTPRequestHead, rule: Int?) {
        let path = request.uri.split(separator: "?").first.map(String.init) ?? request.uri
        state.withLock { state in
            state.requests += 1
            state.injections.append(Injection(fault: fault, method: request.method.rawValue, path: path, rule: rule))
        }
    }

    /// Decides whether `request` gets a random fault, and which one.
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
            state.injections.append(Injection(fault: fault, method: request.method.rawValue, path: path, rule: nil))
            return fault
        }
    }

    private func isDenied(_ request: HTTPRequestHead) -> Bool {
        guard [.POST, .PUT, .PATCH, .DELETE].contains(request.method) else { return false }
        let denied = state.withLock { $0.denied }
        return denied.contains { request.uri.hasPrefix("/v2/\($0)/") }
    }

    private func canned(_ fault: Fault, _ request: HTTPRequestHead) -> (HTTPResponseHead, [UInt8])? {
        func error(_ status: Int, _ code: String, _ message: String, _ extra: [(String, String)] = []) -> (HTTPResponseHead, [UInt8]) {
            Self.answer(request, status: status, code: code, message: message, headers: extra)
        }
        switch fault {
        case .tooManyRequests: return error(429, "TOOMANYREQUESTS", "rate limited", [("Retry-After", "0")])
        case .tooManyRequestsHint: return error(429, "TOOMANYREQUESTS", "retry-after: 10.48ms, allowed: 2000/minute")
        case .unavailable: return error(503, "UNAVAILABLE", "service unavailable")
        case .secondaryRateLimit: return error(403, "DENIED", "You have exceeded a secondary rate limit. Please wait a few minutes.")
        case .blobUploadUnknown: return error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
        case .reset, .resetAfterForward, .delay, .resetMidBody, .answered, .chunkTooLarge, .pullLimitExceeded, .redirect,
             .resetMidAnswer:
            return nil
        }
    }
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
