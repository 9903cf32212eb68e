import Logging
import Synchronization

/// What a blob does not need to be uploaded for, or how it got there.
public enum BlobPushResult: Sendable, Equatable { case alreadyPresent, mounted, uploaded }

/// What a `HEAD` on a manifest tells: its digest, media type and size.
public struct ManifestDescriptor: Sendable, Equatable {
    public let digest: Digest
    public let mediaType: String?
    public let size: Int?

    public init(digest: Digest, mediaType: String?, size: Int?) {
        self.digest = digest
        self.mediaType = mediaType
        self.size = size
    }
}

/// Counters of one client: every HTTP request (token requests included), token requests, request body bytes.
public struct RegistryClientStats: Sendable, Equatable {
    public var requests: Int
    public var tokenRequests: Int
    public var bytesSent: Int

    public init(requests: Int = 0, tokenRequests: Int = 0, bytesSent: Int = 0) {
        self.requests = requests
        self.tokenRequests = tokenRequests
        self.bytesSent = bytesSent
    }
}

/// A client of one registry speaking the OCI distribution API
/// (https://github.com/opencontainers/distribution-spec/blob/main/spec.md).
///
/// Authentication is learned from the `/v2/` ping or any 401: `Basic` credentials are then sent with every
/// request; `Bearer` tokens are fetched from the challenge's realm and cached per scope set (see `Auth.swift`).
///
/// Credentials (and tokens obtained with them) are only sent to the registry's own origin and to its token
/// realm, and never over plain HTTP to a host that is not loopback unless `allowInsecureCredentials` is set:
/// such a request fails with ``RegistryError/authentication(operation:status:message:)`` instead.
public final class RegistryClient: Sendable {
    /// How the registry wants requests authenticated, as learned so far.
    enum AuthMode: Sendable, Equatable {
        case unknown
        case anonymous
        case basic
        case bearer(realm: String, service: String?)
    }

    struct State: Sendable {
        var mode: AuthMode = .unknown
        var stats = RegistryClientStats()
        var learning: Task<Void, Never>?
    }

    let registry: RegistryHost
    let transport: any HTTPTransport
    let credentials: Credentials?
    let plainHTTP: Bool
    let allowInsecureCredentials: Bool
    let logger: Logger
    /// `http(s)://host[:port]`.
    let baseURL: String
    let baseParts: URLParts
    let state = Mutex(State())
    let tokens = TokenCache()

    public init(registry: RegistryHost, transport: any HTTPTransport, credentials: Credentials?,
                plainHTTP: Bool, logger: Logger = Logger(label: "stevedore.oci"),
                allowInsecureCredentials: Bool = false) {
        self.registry = registry
        self.transport = transport
        self.credentials = credentials
        self.plainHTTP = plainHTTP
        self.allowInsecureCredentials = allowInsecureCredentials
        self.logger = logger
        self.baseURL = registry.baseURL(plainHTTP: plainHTTP)
        self.baseParts = URLParts(baseURL + "/")!
    }

    /// Requests sent, token requests, bytes sent.
    public var stats: RegistryClientStats { state.withLock { $0.stats } }

    var mode: AuthMode { state.withLock { $0.mode } }

    /// `<base>/v2/<name>/<rest>`.
    func url(_ repository: RepositoryName, _ rest: String) -> String {
        "\(baseURL)/v2/\(repository.value)/\(rest)"
    }

    /// `ns/app:tag` or `ns/app@sha256:0123456789ab…` for operation names.
    static func display(_ repository: RepositoryName, reference: String) -> String {
        if let digest = try? Digest(parsing: reference) { return "\(repository.value)@\(digest.short)" }
        return "\(repository.value):\(ReferenceError.clip(reference, limit: 130))"
    }

    /// The reference as a URL path segment.
    static func pathSegment(_ reference: String) -> String {
        URLParts.encode(reference, keeping: ":")
    }

    // MARK: - Sending

    /// One request as the operations describe it; `scopes` is what a bearer token must grant for it.
    struct Call {
        var method: String
        var url: String
        var headers: [(name: String, value: String)] = []
        var body: [UInt8]? = nil
        var operation: String
        var scopes: ScopeSet
    }

    /// Sends one request through the transport, counting and logging it. No authentication logic here.
    func transmit(_ request: HTTPRequestSpec, operation: String) async throws(RegistryError) -> HTTPResponseSpec {
        let bodyBytes = request.body?.count ?? 0
        state.withLock {
            $0.stats.requests += 1
            $0.stats.bytesSent += bodyBytes
        }
        let started = ContinuousClock.now
        let response: HTTPResponseSpec
        do {
            response = try await transport.send(request)
        } catch let error as TransportError {
            logger.debug("request failed", metadata: [
                "method": .string(request.method), "path": .string(Self.logPath(request.url)),
                "error": .string(error.message),
            ])
            throw .transport(operation: operation, error)
        } catch {
            if error is CancellationError || Task.isCancelled {
                throw .transport(operation: operation, TransportError(kind: .other, message: "cancelled"))
            }
            let name = String(describing: type(of: error))
            throw .transport(operation: operation, TransportError(kind: .other, message: "request failed (\(name))"))
        }
        if logger.logLevel <= .debug {
            let elapsed = ContinuousClock.now - started
            let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            logger.debug("request", metadata: [
                "method": .string(request.method), "path": .string(Self.logPath(request.url)),
                "status": .stringConvertible(response.status),
                "ms": .string(String(Int(milliseconds.rounded()))),
            ])
        }
        return response
    }

    /// The path of a URL without query (queries can carry upload state), for logs.
    static func logPath(_ url: String) -> String {
        guard let parts = URLParts(url) else { return "?" }
        return String(parts.path)
    }

    /// The error for an unexpected answer: status, decoded OCI error details, raw `Retry-After`.
    /// A 403 without details is reported as `DENIED` so callers can classify it.
    func failure(_ operation: String, _ response: HTTPResponseSpec) -> RegistryError {
        var details = ErrorBody.details(from: response.body)
        if response.status == 403, details.isEmpty {
            details = [RegistryErrorDetail(code: "DENIED", message: "access denied")]
        }
        return .http(operation: operation, status: response.status, details: details,
                     retryAfter: response.header("Retry-After"))
    }

    /// The error for a success status with an unusable answer.
    func invalid(_ operation: String, _ message: String) -> RegistryError {
        .invalidResponse(operation: operation, message: message)
    }
}
