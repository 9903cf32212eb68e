import CryptoExtras
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A token server in the style of ghcr.io's: the registry (in `auth: token` mode) challenges, the
/// client fetches `GET /token?service=S&scope=repository:NAME:pull,push` with HTTP Basic credentials
/// and gets an RS256 JWT whose `access` claim lists what the user may do.
///
/// The signing key and its self-signed certificate are made with `openssl`; the certificate is the
/// registry's `rootcertbundle` and travels in the token's `x5c` header.
public final class TokenServer: Sendable {
    /// What a user may do: repository-name prefixes ("" for all) and the actions granted there.
    public struct User: Sendable {
        public var password: String
        public var grants: [(prefix: String, actions: Set<String>)]

        public init(password: String, grants: [(prefix: String, actions: Set<String>)]) {
            self.password = password
            self.grants = grants
        }

        public static func readWrite(_ password: String) -> User { User(password: password, grants: [("", ["pull", "push"])]) }
        public static func readOnly(_ password: String) -> User { User(password: password, grants: [("", ["pull"])]) }
    }

    public static let service = "stevedore-test-registry"
    public static let issuer = "stevedore-test-token-issuer"

    public var port: Int { server.port }
    public var realm: String { "http://127.0.0.1:\(port)/token" }
    /// The certificate bundle the registry must trust.
    public let certificatePath: String
    private let server: LoopbackServer
    private let key: _RSA.Signing.PrivateKey
    private let certificateDER: Data
    private let users: [String: User]
    private let counts = Mutex((requests: 0, refused: 0))
    private let scopeLog = Mutex<[String]>([])
    private let directory: String

    /// Token requests answered so far (including refused ones).
    public var requestCount: Int { counts.withLock { $0.requests } }
    /// The scopes of every token request, in order (one string per request, scopes space-separated).
    public var requestedScopes: [String] { scopeLog.withLock { $0 } }

    /// Token requests refused for bad credentials.
    public var refusedCount: Int { counts.withLock { $0.refused } }

    public static func start(users: [String: User]) async throws -> TokenServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let keyPath = directory + "/key.pem", certificatePath = directory + "/cert.pem"
        let openssl = try await ChildProcess.run(
            executable: "/usr/bin/openssl",
            arguments: ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPath, "-out", certificatePath,
                        "-days", "2", "-subj", "/CN=stevedore test token issuer"],
            environment: [:])
        guard openssl.exitCode == 0 else { throw TestSupportError("openssl failed: \(openssl.stderr)") }
        let key = try _RSA.Signing.PrivateKey(pemRepresentation: try String(contentsOfFile: keyPath, encoding: .utf8))
        let pem = try String(contentsOfFile: certificatePath, encoding: .utf8)
        let base64 = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let der = Data(base64Encoded: base64) else { throw TestSupportError("cannot decode \(certificatePath)") }
        let tokenServer = TokenServer(server: try await LoopbackServer.bind(), key: key, certificateDER: der,
                                      certificatePath: certificatePath, users: users, directory: directory)
        tokenServer.server.serve { connection in await tokenServer.handle(connection) }
        return tokenServer
    }

    private init(server: LoopbackServer, key: _RSA.Signing.PrivateKey, certificateDER: Data, certificatePath: String,
                 users: [String: User], directory: String) {
        self.server = server
        self.key = key
        self.certificateDER = certificateDER
        self.certificatePath = certificatePath
        self.users = users
        self.directory = directory
    }

    public func stop() async {
        await server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func handle(_ connection: LoopbackServer.Connection) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            for try await part in inbound {
                switch part {
                case .head(let request): head = request
                case .body: break
                case .end:
                    guard let request = head else { continue }
                    let (status, body) = answer(request)
                    let headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", "\(body.utf8.count)")])
                    try await outbound.write(.head(HTTPResponseHead(version: request.version, status: status, headers: headers)))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body))))
                    try await outbound.write(.end(nil))
                }
            }
        }
    }

    func answer(_ request: HTTPRequestHead) -> (HTTPResponseStatus, String) {
        counts.withLock { $0.requests += 1 }
        let components = URLComponents(string: request.uri)
        guard components?.path == "/token" else { return (.notFound, #"{"errors":[{"code":"NOT_FOUND"}]}"#) }
        let query = components?.queryItems ?? []
        let scopes = query.filter { $0.name == "scope" }.compactMap(\.value)
        scopeLog.withLock { $0.append(scopes.joined(separator: " ")) }
        var subject = ""
        var user: User?
        if let header = request.headers.first(name: "Authorization") {
            guard let (name, password) = Self.basic(header), let known = users[name], known.password == password else {
                counts.withLock { $0.refused += 1 }
                return (.unauthorized, #"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#)
            }
            subject = name
            user = known
        }
        let access = scopes.flatMap { $0.split(separator: " ") }.compactMap { scope -> String? in
            let parts = scope.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] == "repository" else { return nil }
            let name = String(parts[1])
            let wanted = Set(parts[2].split(separator: ",").map(String.init))
            let granted = user?.grants.filter { name.hasPrefix($0.prefix) }.reduce(into: Set<String>()) { $0.formUnion($1.actions) } ?? []
            let actions = wanted.intersection(granted).sorted()
            return #"{"type":"repository","name":"\#(name)","actions":[\#(actions.map { "\"\($0)\"" }.joined(separator: ","))]}"#
        }
        guard let token = try? sign(subject: subject, access: access) else {
            return (.internalServerError, #"{"errors":[{"code":"UNKNOWN"}]}"#)
        }
        let now = ISO8601DateFormatter().string(from: Date())
        return (.ok, #"{"token":"\#(token)","access_token":"\#(token)","expires_in":300,"issued_at":"\#(now)"}"#)
    }

    private func sign(subject: String, access: [String]) throws -> String {
        let now = Int(Date().timeIntervalSince1970)
        let header = #"{"alg":"RS256","typ":"JWT","x5c":["\#(certificateDER.base64EncodedString())"]}"#
        let claims = #"{"iss":"\#(Self.issuer)","sub":"\#(subject)","aud":"\#(Self.service)","exp":\#(now + 300),"# +
            #""nbf":\#(now - 10),"iat":\#(now),"jti":"\#(UUID().uuidString)","access":[\#(access.joined(separator: ","))]}"#
        let input = Self.base64URL(Data(header.utf8)) + "." + Self.base64URL(Data(claims.utf8))
        let signature = try key.signature(for: Data(input.utf8), padding: .insecurePKCS1v1_5)
        return input + "." + Self.base64URL(signature.rawRepresentation)
    }

    static func basic(_ header: String) -> (String, String)? {
        guard header.lowercased().hasPrefix("basic "),
              let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
              let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":") else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
