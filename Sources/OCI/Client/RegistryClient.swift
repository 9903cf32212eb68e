import Credentials
import HTTPTransport
import HTTPTypes
import Synchronization
import Timekeeping

/// What a blob does not need to be uploaded for, or how it got there.
public enum BlobPushResult: String, Sendable, Equatable { case alreadyPresent = "present", mounted, uploaded }

/// What a `HEAD` on a manifest tells: its digest, media type and size.
public struct ManifestDescriptor: Sendable, Equatable {
    public let digest: Digest
    public let mediaType: String?
    public let size: Int?
    /// The pull limit the answer announced (Docker Hub), if any.
    public let pullBudget: PullBudget?

    public init(digest: Digest, mediaType: String?, size: Int?, pullBudget: PullBudget? = nil) {
        self.digest = digest
        self.mediaType = mediaType
        self.size = size
        self.pullBudget = pullBudget
    }
}

/// A client of one registry speaking the OCI distribution API
/// (https://github.com/opencontainers/distribution-spec/blob/main/spec.md).
///
/// Authentication is learned from the `/v2/` ping or any 401: `Basic` credentials are then sent with every
/// request; `Bearer` tokens are fetched from the challenge's realm and cached per scope set (see `Auth.swift`).
///
/// Credentials (and tokens obtained with them) are only sent to the registry's own origin and to its token
/// realm, and never over plain HTTP to a host that is not loopback unless `allowInsecureCredentials` is set
/// (``HostPolicy``): such a request fails with ``RegistryError/authentication(operation:status:message:)``.
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
        var learning: Task<Void, Never>?
    }

    public let registry: RegistryHost
    let transport: any HTTPTransport
    let credentials: Credentials?
    let plainHTTP: Bool
    let allowInsecureCredentials: Bool
    let time: any TimeSource
    /// `http(s)://host[:port]`.
    let baseURL: String
    let baseParts: URLParts
    let state = Mutex(State())
    let tokens: TokenCache

    public init(registry: RegistryHost, transport: any HTTPTransport, credentials: Credentials?,
                plainHTTP: Bool, time: any TimeSource = SystemTime(), allowInsecureCredentials: Bool = false) {
        self.registry = registry
        self.transport = transport
        self.credentials = credentials
        self.plainHTTP = plainHTTP
        self.allowInsecureCredentials = allowInsecureCredentials
        self.time = time
        self.tokens = TokenCache(time: time)
        self.baseURL = registry.baseURL(plainHTTP: plainHTTP)
        self.baseParts = URLParts(baseURL + "/")!
    }

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
    struct Call: Sendable {
        var method: HTTPRequest.Method
        var url: String
        var headers: HTTPFields = [:]
        var body: HTTPBody? = nil
        var operation: String
        var scopes: ScopeSet
        /// A longer deadline than the transport's default (large uploads).
        var timeout: Duration? = nil
    }

    /// Sends one request through the transport and reads its answer. No authentication logic here.
    func transmit(_ request: TransportRequest, operation: String) async throws(RegistryError) -> CollectedResponse {
        try await collect(try await open(request, operation: operation), operation: operation)
    }

    /// Sends one request; its answer's body is left to be streamed.
    func open(_ request: TransportRequest, operation: String) async throws(RegistryError) -> TransportResponse {
        do {
            return try await transport.send(request)
        } catch {
            throw Self.mapped(error, operation: operation)
        }
    }

    /// Reads a streamed answer's body into memory (answers here are manifests, tag lists and errors).
    func collect(_ response: TransportResponse, operation: String) async throws(RegistryError) -> CollectedResponse {
        do {
            return try await response.collected()
        } catch {
            throw Self.mapped(error, operation: operation)
        }
    }

    static func mapped(_ error: any Error, operation: String) -> RegistryError {
        if let error = error as? TransportError { return .transport(operation: operation, error) }
        if error is CancellationError || Task.isCancelled {
            return .transport(operation: operation, TransportError(kind: .other, message: "cancelled"))
        }
        let name = String(describing: type(of: error))
        return .transport(operation: operation, TransportError(kind: .other, message: "request failed (\(name))"))
    }

    /// The error for an unexpected answer: status, decoded OCI error details, raw `Retry-After`.
    /// A 403 without details is reported as `DENIED` so callers can classify it.
    func failure(_ operation: String, _ response: CollectedResponse) -> RegistryError {
        var details = ErrorBody.details(from: response.body)
        if response.status == 403, details.isEmpty {
            details = [RegistryErrorDetail(code: "DENIED", message: "access denied")]
        }
        return .http(operation: operation, status: response.status, details: details,
                     retryAfter: response[.retryAfter])
    }

    /// The error for a success status with an unusable answer.
    func invalid(_ operation: String, _ message: String) -> RegistryError {
        .invalidResponse(operation: operation, message: message)
    }
}
