import Foundation
import NIOHTTP1

extension FaultProxy {
    /// Which requests a rule hits: among the requests whose method and request target match, the
    /// `occurrence`-th (1-based) and the `count - 1` after it. Each rule counts its own matches.
    public struct Match: Sendable, CustomStringConvertible {
        /// `PUT`, `PATCH`...; nil matches any method.
        public var method: String?
        /// A substring of the request target, query included (`/blobs/uploads/`, `digest=`); nil matches any.
        public var pathContains: String?
        public var occurrence: Int
        public var count: Int

        public init(method: String? = nil, pathContains: String? = nil, occurrence: Int = 1, count: Int = 1) {
            self.method = method
            self.pathContains = pathContains
            self.occurrence = occurrence
            self.count = count
        }

        func matches(_ request: HTTPRequestHead) -> Bool {
            (method == nil || request.method.rawValue == method) && (pathContains.map { request.uri.contains($0) } ?? true)
        }

        public var description: String {
            "\(method ?? "*") *\(pathContains ?? "")* #\(occurrence)\(count > 1 ? "+\(count - 1)" : "")"
        }
    }

    /// What a rule does to the requests it hits.
    public enum Action: Sendable {
        /// Reads `bytes` bytes of the request body, then resets the client's connection. With
        /// `forwardPartial` those bytes were streamed to the registry first and its connection is cut too
        /// (an interrupted PATCH/PUT as the registry sees it); otherwise the registry sees nothing.
        /// A body that ends before `bytes` is forwarded normally and nothing is injected.
        case resetAfterBodyBytes(Int, forwardPartial: Bool)
        /// Answers without forwarding: `status`, and an OCI error body `{"errors":[{code, message}]}` when
        /// `code` is given (else an empty body), plus `headers`.
        case answer(status: Int, code: String?, message: String, headers: [String: String])
        /// 404 `BLOB_UPLOAD_UNKNOWN`, as registries answer an upload session they lost.
        case blobUploadUnknown
        /// 307 with `Location: <base URL><request target>` (e.g. `http://127.0.0.1:PORT`), as registries
        /// send blob downloads to a storage host; pair with `LoopbackOrigin` as that host.
        case redirect(to: String)
        /// Forwards the request, then sends the answer's head and its first `bytes` body bytes, and resets the
        /// connection (a blob download broken in the middle).
        case resetAfterAnswerBytes(Int)
    }

    /// A targeted rule: `action` on the requests `match` selects.
    public struct Rule: Sendable {
        public var match: Match
        public var action: Action

        public init(_ match: Match, _ action: Action) {
            self.match = match
            self.action = action
        }
    }

    /// The request line and headers of a request the proxy received, in arrival order.
    public struct RecordedRequest: Sendable, CustomStringConvertible {
        public let method: String
        public let uri: String
        public let headers: [(name: String, value: String)]
        /// When the request's head arrived (the continuous clock).
        public let at: ContinuousClock.Instant

        /// The first value of a header, compared case-insensitively.
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        public var description: String { "\(method) \(uri)" }

        init(_ head: HTTPRequestHead, at: ContinuousClock.Instant = .now) {
            method = head.method.rawValue
            uri = head.uri
            headers = head.headers.map { (name: $0.name, value: $0.value) }
            self.at = at
        }
    }

    /// Docker Hub-style pull limit: `ratelimit-limit`/`ratelimit-remaining: N;w=WINDOW` on manifest GET and
    /// HEAD; a GET takes one pull (a HEAD none); a GET with none left is answered 429 TOOMANYREQUESTS.
    public struct PullBudget: Sendable {
        public var limit: Int
        public var remaining: Int
        public var window: Int

        public init(limit: Int = 100, remaining: Int, window: Int = 21_600) {
            self.limit = limit
            self.remaining = remaining
            self.window = window
        }

        var headers: [(String, String)] {
            [("ratelimit-limit", "\(limit);w=\(window)"), ("ratelimit-remaining", "\(remaining);w=\(window)"),
             ("docker-ratelimit-source", "127.0.0.1")]
        }
    }

    /// ghcr.io's chunk limit: a PATCH whose body exceeds `bytes` gets 416 REQUESTED_RANGE_NOT_SATISFIABLE
    /// and is not forwarded. `onlyWithContentRange` limits it to PATCHes with a Content-Range header
    /// (ghcr.io accepts one streamed PATCH without it).
    public struct ChunkCap: Sendable {
        public var bytes: Int
        public var onlyWithContentRange: Bool

        public init(bytes: Int = 4 << 20, onlyWithContentRange: Bool = false) {
            self.bytes = bytes
            self.onlyWithContentRange = onlyWithContentRange
        }

        func applies(to request: HTTPRequestHead) -> Bool {
            request.method == .PATCH && (!onlyWithContentRange || request.headers["Content-Range"].first != nil)
        }

        /// ghcr.io's wording, e.g. "... limit of 4.00MiB".
        var message: String {
            let hundredths = (bytes * 100 + (1 << 19)) >> 20
            let fraction = hundredths % 100
            return "the request body is too large and exceeds the maximum permissible limit of "
                + "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)MiB"
        }
    }

    /// What the proxy does with a request, decided from its head (rules, pull budget, chunk cap).
    enum Plan: Sendable {
        /// Nothing targeted: the seeded random faults and `deny` apply.
        case normal
        /// Forward, adding these headers to the answer (pull budget).
        case forwardAdding([(String, String)])
        /// Reset after some body bytes (rule `index`).
        case reset(after: Int, forwardPartial: Bool, rule: Int)
        /// Answer this after reading (and dropping) the body; `fault` is recorded when it is sent.
        case answer(HTTPResponseHead, [UInt8], fault: Fault, rule: Int?)
        /// A PATCH of unknown length under a chunk cap: buffered up to the cap, then decided.
        case capped(ChunkCap)
        /// Forward, then cut the answer after this many body bytes (rule `index`).
        case cutAnswer(after: Int, rule: Int)
    }

    /// The plan for `request`; counts rule matches and takes a pull from the budget. Called under the lock.
    static func plan(_ request: HTTPRequestHead, _ state: inout State) -> Plan {
        var hit: (Int, Action)?
        for index in state.rules.indices where state.rules[index].rule.match.matches(request) {
            state.rules[index].seen += 1
            let match = state.rules[index].rule.match
            if hit == nil, state.rules[index].seen >= match.occurrence, state.rules[index].seen < match.occurrence + match.count {
                hit = (index, state.rules[index].rule.action)
            }
        }
        if let (index, action) = hit {
            switch action {
            case .resetAfterBodyBytes(let bytes, let partial):
                return .reset(after: bytes, forwardPartial: partial, rule: index)
            case .answer(let status, let code, let message, let headers):
                let (head, body) = answer(request, status: status, code: code, message: message,
                                          headers: headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
                return .answer(head, body, fault: .answered, rule: index)
            case .blobUploadUnknown:
                let (head, body) = answer(request, status: 404, code: "BLOB_UPLOAD_UNKNOWN", message: "blob upload unknown to registry")
                return .answer(head, body, fault: .blobUploadUnknown, rule: index)
            case .redirect(let base):
                let (head, body) = answer(request, status: 307, code: nil, message: "", headers: [("Location", base + request.uri)])
                return .answer(head, body, fault: .redirect, rule: index)
            case .resetAfterAnswerBytes(let bytes):
                return .cutAnswer(after: bytes, rule: index)
            }
        }
        if let cap = state.chunkCap, cap.applies(to: request) {
            guard let length = request.headers["Content-Length"].first.flatMap({ Int($0) }) else { return .capped(cap) }
            if length > cap.bytes { return capExceeded(request, cap) }
        }
        if var budget = state.pullBudget, request.uri.contains("/manifests/"), request.method == .GET || request.method == .HEAD {
            if request.method == .GET {
                if budget.remaining <= 0 {
                    let (head, body) = answer(request, status: 429, code: "TOOMANYREQUESTS",
                                              message: "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit",
                                              headers: budget.headers)
                    return .answer(head, body, fault: .pullLimitExceeded, rule: nil)
                }
                budget.remaining -= 1
                state.pullBudget = budget
            }
            return .forwardAdding(budget.headers)
        }
        return .normal
    }

    static func capExceeded(_ request: HTTPRequestHead, _ cap: ChunkCap) -> Plan {
        let (head, body) = answer(request, status: 416, code: "REQUESTED_RANGE_NOT_SATISFIABLE", message: cap.message)
        return .answer(head, body, fault: .chunkTooLarge, rule: nil)
    }

    /// A complete answer: an OCI error body when `code` is given, else empty.
    static func answer(_ request: HTTPRequestHead, status: Int, code: String?, message: String,
                       headers extra: [(String, String)] = []) -> (HTTPResponseHead, [UInt8]) {
        var body: [UInt8] = []
        var headers = HTTPHeaders()
        if let code {
            let escaped = message.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            body = Array(#"{"errors":[{"code":"\#(code)","message":"\#(escaped)"}]}"#.utf8)
            headers.add(name: "Content-Type", value: "application/json")
        }
        headers.add(name: "Content-Length", value: "\(body.count)")
        headers.add(contentsOf: extra)
        return (HTTPResponseHead(version: request.version, status: HTTPResponseStatus(statusCode: status), headers: headers), body)
    }
}
