import Foundation
import HTTPTransport
import HTTPTypes
import NIOCore
import OCI
import Synchronization

/// A request as the fake registry sees it: method, URL, headers and the whole body.
public struct HTTPRequestSpec: Sendable {
    public var method: String
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
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// An answer of the fake registry.
public struct HTTPResponseSpec: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// An in-memory registry answering `HTTPRequestSpec`s in process: blobs, upload sessions with a
/// `Location`, mounts, manifests, paginated tags, optional Basic or Bearer auth and a fake token realm.
/// Every request is recorded so tests can count and inspect what the client sent.
public final class FakeRegistry: HTTPTransport {
    public enum Auth: Sendable {
        case none
        case basic(username: String, password: String)
        /// Token realm at `https://auth.test/token`; `password` nil means tokens are anonymous.
        case bearer(username: String?, password: String?)
    }

    public enum LocationStyle: Sendable { case relative, absolute, absoluteWithQuery }

    public struct Options: Sendable {
        public var auth: Auth = .none
        public var location: LocationStyle = .relative
        public var mountEnabled = true
        public var sendDigestHeaders = true
        public var wrongManifestDigest = false
        public var tagPageSize = 1000
        public var tokenLifetime: Double? = 300
        public var tokenKey = "token"
        public var grantPush = true

        public init() {}
    }

    public struct Recorded: Sendable {
        public let method: String
        public let url: String
        public let headers: [(name: String, value: String)]
        public let bodyCount: Int
        public var path: String { URLComponents(string: url)?.path ?? url }
        public var authorization: String? { headers.first { $0.name.lowercased() == "authorization" }?.value }
        public var isTokenRequest: Bool { url.hasPrefix(FakeRegistry.realm) }
    }

    struct State {
        var options = Options()
        var blobs: [String: Set<String>] = [:]
        var uploads: [String: (name: String, received: [UInt8])] = [:]
        var manifests: [String: [String: (bytes: [UInt8], mediaType: String)]] = [:]
        var tokens: [String: Set<String>] = [:]
        var revoked: Set<String> = []
        var nextID = 0
        public var recorded: [Recorded] = []
        var intercept: (@Sendable (HTTPRequestSpec) -> HTTPResponseSpec?)?
    }

    public static let realm = "https://auth.test/token"
    public let base: String
    let state = Mutex(State())

    public init(base: String = "https://registry.test", _ configure: (inout Options) -> Void = { _ in }) {
        self.base = base
        var options = Options()
        configure(&options)
        state.withLock { $0.options = options }
    }

    public var recorded: [Recorded] { state.withLock { $0.recorded } }
    public var registryRequests: [Recorded] { recorded.filter { !$0.isTokenRequest } }
    public var tokenRequests: [Recorded] { recorded.filter(\.isTokenRequest) }
    public func configure(_ change: (inout Options) -> Void) { state.withLock { change(&$0.options) } }
    public func intercept(_ handler: (@Sendable (HTTPRequestSpec) -> HTTPResponseSpec?)?) { state.withLock { $0.intercept = handler } }
    public func revokeAllTokens() { state.withLock { $0.revoked.formUnion($0.tokens.keys) } }
    public func hasBlob(_ repository: String, _ digest: Digest) -> Bool {
        state.withLock { $0.blobs[repository]?.contains(digest.description) ?? false }
    }
    public func addBlob(_ repository: String, _ digest: Digest) {
        state.withLock { _ = $0.blobs[repository, default: []].insert(digest.description) }
    }
    public func addManifest(_ repository: String, tag: String, bytes: [UInt8], mediaType: String = MediaType.ociManifest) {
        state.withLock {
            $0.manifests[repository, default: [:]][tag] = (bytes, mediaType)
            $0.manifests[repository, default: [:]][Digest.sha256(bytes).description] = (bytes, mediaType)
        }
    }

    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        try Task.checkCancellation()
        var headers: [(name: String, value: String)] = request.headerFields.map { ($0.name.rawName, $0.value) }
        if let length = request.body?.knownLength, !headers.contains(where: { $0.name.lowercased() == "content-length" }) {
            headers.append(("Content-Length", String(length)))
        }
        var body: [UInt8]?
        if let requestBody = request.body {
            var bytes: [UInt8] = []
            for try await var chunk in requestBody.chunks() { bytes += chunk.readBytes(length: chunk.readableBytes) ?? [] }
            body = bytes
        }
        let answer = respond(HTTPRequestSpec(method: request.method.rawValue, url: request.url, headers: headers, body: body))
        var fields = HTTPFields()
        for header in answer.headers {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        return TransportResponse(status: answer.status, headerFields: fields, body: .bytes(answer.body))
    }

    /// Answers one request (recording it), as `send` does after reading the body.
    public func respond(_ request: HTTPRequestSpec) -> HTTPResponseSpec {
        state.withLock { state in
            state.recorded.append(Recorded(method: request.method, url: request.url, headers: request.headers,
                                           bodyCount: request.body?.count ?? 0))
            if let answer = state.intercept?(request) { return answer }
            return Self.handle(request, &state, base: base)
        }
    }

    // MARK: - Routing

    private static func handle(_ request: HTTPRequestSpec, _ state: inout State, base: String) -> HTTPResponseSpec {
        guard let components = URLComponents(string: request.url) else { return answer(400) }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { a, _ in a })
        if request.url.hasPrefix(realm) { return token(request, components, &state) }
        let path = components.percentEncodedPath
        if path == "/v2/" {
            if let denied = authorize(request, needs: [], &state) { return denied }
            return answer(200)
        }
        guard path.hasPrefix("/v2/") else { return answer(404) }
        let rest = String(path.dropFirst(4))
        for marker in ["/blobs/uploads/", "/blobs/", "/manifests/", "/tags/list"] {
            guard let range = rest.range(of: marker) else { continue }
            let name = String(rest[..<range.lowerBound])
            let tail = String(rest[range.upperBound...])
            let writes = ["POST", "PUT", "PATCH"].contains(request.method)
            var needs = ["repository:\(name):\(writes ? "push" : "pull")"]
            if let from = query["from"], query["mount"] != nil { needs.append("repository:\(from):pull") }
            if let denied = authorize(request, needs: needs, &state) { return denied }
            switch marker {
            case "/blobs/uploads/": return upload(request, name: name, id: tail, query: query, &state, base: base)
            case "/blobs/":
                let present = state.blobs[name]?.contains(tail) ?? false
                return present ? answer(200, ["Docker-Content-Digest": tail]) : error(404, "BLOB_UNKNOWN", "blob unknown")
            case "/manifests/": return manifest(request, name: name, reference: tail.removingPercentEncoding ?? tail, &state)
            default: return tags(name: name, query: query, state)
            }
        }
        return answer(404)
    }

    private static func upload(_ request: HTTPRequestSpec, name: String, id: String, query: [String: String],
                               _ state: inout State, base: String) -> HTTPResponseSpec {
        switch (request.method, id.isEmpty) {
        case ("POST", true):
            if let digest = query["mount"], let from = query["from"], state.options.mountEnabled,
               state.blobs[from]?.contains(digest) == true {
                state.blobs[name, default: []].insert(digest)
                return answer(201, ["Location": "/v2/\(name)/blobs/\(digest)", "Docker-Content-Digest": digest])
            }
            state.nextID += 1
            let session = "session-\(state.nextID)"
            state.uploads[session] = (name, [])
            let path = "/v2/\(name)/blobs/uploads/\(session)"
            let location = switch state.options.location {
            case .relative: path
            case .absolute: base + path
            case .absoluteWithQuery: base + path + "?_state=opaque%3D"
            }
            return answer(202, ["Location": location, "Docker-Upload-UUID": session])
        case ("PATCH", false):
            // Streamed (no Content-Range) or chunked (Content-Range must continue where the session stands).
            guard let upload = state.uploads[id], upload.name == name else { return error(404, "BLOB_UPLOAD_UNKNOWN", "upload unknown") }
            let body = request.body ?? []
            if let range = request.header("Content-Range") {
                let bounds = range.split(separator: "-").compactMap { Int($0) }
                guard bounds.count == 2, bounds[0] == upload.received.count, bounds[1] - bounds[0] + 1 == body.count else {
                    return answer(416, ["Range": "0-\(max(upload.received.count - 1, 0))"])
                }
            }
            state.uploads[id]?.received += body
            let path = "/v2/\(name)/blobs/uploads/\(id)"
            return answer(202, ["Location": path, "Range": "0-\(upload.received.count + body.count - 1)", "Docker-Upload-UUID": id])
        case ("PUT", false):
            guard let upload = state.uploads[id], upload.name == name else { return error(404, "BLOB_UPLOAD_UNKNOWN", "upload unknown") }
            guard let digest = query["digest"], case let body = upload.received + (request.body ?? []),
                  Digest.sha256(body).description == digest else { return error(400, "DIGEST_INVALID", "digest invalid") }
            state.uploads[id] = nil
            state.blobs[name, default: []].insert(digest)
            return answer(201, state.options.sendDigestHeaders ? ["Docker-Content-Digest": digest] : [:])
        default:
            return answer(405)
        }
    }

    private static func manifest(_ request: HTTPRequestSpec, name: String, reference: String,
                                 _ state: inout State) -> HTTPResponseSpec {
        switch request.method {
        case "PUT":
            let bytes = request.body ?? []
            let mediaType = request.header("Content-Type") ?? "application/octet-stream"
            let digest = Digest.sha256(bytes).description
            state.manifests[name, default: [:]][reference] = (bytes, mediaType)
            state.manifests[name, default: [:]][digest] = (bytes, mediaType)
            let answered = state.options.wrongManifestDigest ? Digest.sha256([0]).description : digest
            return answer(201, state.options.sendDigestHeaders ? ["Docker-Content-Digest": answered] : [:])
        case "GET", "HEAD":
            guard let stored = state.manifests[name]?[reference] else {
                return error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            }
            var headers = ["Content-Type": stored.mediaType, "Content-Length": String(stored.bytes.count)]
            if state.options.sendDigestHeaders { headers["Docker-Content-Digest"] = Digest.sha256(stored.bytes).description }
            return answer(200, headers, body: request.method == "GET" ? stored.bytes : [])
        default:
            return answer(405)
        }
    }

    private static func tags(name: String, query: [String: String], _ state: State) -> HTTPResponseSpec {
        guard let manifests = state.manifests[name] else { return error(404, "NAME_UNKNOWN", "repository name not known") }
        let all = manifests.keys.filter { !$0.hasPrefix("sha256:") }.sorted()
        let limit = min(Int(query["n"] ?? "") ?? 1000, state.options.tagPageSize)
        let after = all.filter { tag in query["last"].map { tag > $0 } ?? true }
        let page = Array(after.prefix(limit))
        var headers: [String: String] = [:]
        if after.count > page.count, let last = page.last {
            headers["Link"] = "</v2/\(name)/tags/list?n=\(limit)&last=\(last)>; rel=\"next\""
        }
        let body = try! JSONSerialization.data(withJSONObject: ["name": name, "tags": page])
        return answer(200, headers, body: Array(body))
    }

    // MARK: - Auth

    private static func authorize(_ request: HTTPRequestSpec, needs: [String], _ state: inout State) -> HTTPResponseSpec? {
        let header = request.header("Authorization")
        switch state.options.auth {
        case .none:
            return nil
        case let .basic(username, password):
            if header == basic(username, password) { return nil }
            return error(401, "UNAUTHORIZED", "authentication required", ["WWW-Authenticate": "Basic realm=\"fake registry\""])
        case .bearer:
            let scope = needs.isEmpty ? "" : ",scope=\"\(needs.joined(separator: " "))\""
            let challenge = "Bearer realm=\"\(realm)\",service=\"registry.test\"\(scope)"
            guard let header, header.hasPrefix("Bearer "), case let token = String(header.dropFirst(7)),
                  let granted = state.tokens[token], !state.revoked.contains(token) else {
                return error(401, "UNAUTHORIZED", "authentication required", ["WWW-Authenticate": challenge])
            }
            if needs.allSatisfy(granted.contains) { return nil }
            return error(401, "UNAUTHORIZED", "insufficient scope",
                         ["WWW-Authenticate": challenge + ",error=\"insufficient_scope\""])
        }
    }

    private static func token(_ request: HTTPRequestSpec, _ components: URLComponents, _ state: inout State) -> HTTPResponseSpec {
        guard case let .bearer(username, password) = state.options.auth else { return answer(404) }
        let header = request.header("Authorization")
        if let username, let password {
            guard header == basic(username, password) else {
                return answer(401, body: Array(#"{"details":"incorrect username or password"}"#.utf8))
            }
        } else if header != nil {
            return answer(401)
        }
        var granted: Set<String> = []
        for item in components.queryItems ?? [] where item.name == "scope" {
            let parts = (item.value ?? "").split(separator: ":")
            guard parts.count == 3 else { continue }
            for action in parts[2].split(separator: ",") where action == "pull" || state.options.grantPush {
                granted.insert("\(parts[0]):\(parts[1]):\(action)")
            }
        }
        state.nextID += 1
        let token = "tok-\(state.nextID)"
        state.tokens[token] = granted
        var json: [String: Any] = [state.options.tokenKey: token, "issued_at": ISO8601DateFormatter().string(from: Date())]
        if let lifetime = state.options.tokenLifetime { json["expires_in"] = lifetime }
        return answer(200, ["Content-Type": "application/json"], body: Array(try! JSONSerialization.data(withJSONObject: json)))
    }

    public static func basic(_ username: String, _ password: String) -> String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }

    // MARK: - Answers

    public static func answer(_ status: Int, _ headers: [String: String] = [:], body: [UInt8] = []) -> HTTPResponseSpec {
        HTTPResponseSpec(status: status, headers: headers.map { (name: $0.key, value: $0.value) }, body: body)
    }

    public static func error(_ status: Int, _ code: String, _ message: String, _ headers: [String: String] = [:]) -> HTTPResponseSpec {
        answer(status, headers, body: Array(#"{"errors":[{"code":"\#(code)","message":"\#(message)","detail":null}]}"#.utf8))
    }
}
