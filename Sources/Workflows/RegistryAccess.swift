import Credentials
import HTTPTransport
import ImagePush
import JobRunner
import Logging
import OCI
import Timekeeping

/// Where to push and as whom.
public struct RegistryAccess: Sendable {
    public var registry: RegistryHost
    public var credentials: Credentials?
    /// Where the credentials came from (for messages; never the secret).
    public var credentialSource: String?
    public var plainHTTP: Bool
    public var trust: TLSTrust

    public init(registry: RegistryHost, credentials: Credentials?, credentialSource: String? = nil, plainHTTP: Bool,
                trust: TLSTrust = .system) {
        self.registry = registry
        self.credentials = credentials
        self.credentialSource = credentialSource
        self.plainHTTP = plainHTTP
        self.trust = trust
    }

    /// The access for `registry` as flags and environment give it: plain HTTP for loopback (unless TLS trust is
    /// configured) and hosts listed in `plainHTTPHosts`, credentials from the resolver's chain. Credentials are
    /// never sent over plain HTTP to a host that is not loopback: that is refused here, before anything is sent.
    public static func resolve(registry: RegistryHost, plainHTTPHosts: [String], trust: TLSTrust, username: String?,
                               stdinSecret: String?, resolver: CredentialResolver = CredentialResolver())
        throws(WorkflowError) -> RegistryAccess {
        try deciding(registry: registry, plainHTTPHosts: plainHTTPHosts, trust: trust, role: "", plainFlag: "--plain-http") {
            () throws(CredentialsError) in
            try resolver.resolve(host: registry.description, username: username, stdinSecret: stdinSecret)
        }
    }

    /// The one rule every registry a run talks to follows, destination or source: plain HTTP for loopback (unless
    /// TLS trust is configured) and the hosts listed, and credentials (`lookup`'s) never over plain HTTP to a host
    /// that is not loopback. `role` names them in the refusal ("source " for a source registry), `plainFlag` the
    /// flag that asked for plain HTTP.
    static func deciding(registry: RegistryHost, plainHTTPHosts: [String], trust: TLSTrust, role: String, plainFlag: String,
                         lookup: () throws(CredentialsError) -> CredentialResolver.Found?) throws(WorkflowError)
        -> RegistryAccess {
        let plain = HostPolicy.usesPlainHTTP(host: registry.host, authority: registry.description,
                                             plainHTTPHosts: plainHTTPHosts, trust: trust)
        let found: CredentialResolver.Found?
        do {
            found = try lookup()
        } catch {
            throw error.workflowError
        }
        if plain, !registry.isLoopback, let found {
            throw .usage("refusing to send the \(role)credentials from \(found.source) over plain http to \(registry); "
                         + "use https (drop \(plainFlag))")
        }
        return RegistryAccess(registry: registry, credentials: found?.credentials, credentialSource: found?.source,
                              plainHTTP: plain, trust: trust)
    }
}

/// Knobs of a run.
public struct RunOptions: Sendable {
    public var concurrency = 8
    public var maxAttempts = 5
    public var force = false
    public var requestTimeout: Duration = .seconds(60)
    /// No job starts, and no retry is scheduled, after this long.
    public var deadline: Duration?
    /// Requests per second to the registry (nil: the host's default; 0: unlimited).
    public var rate: Double?
    /// How blob bytes travel (blobs up to 1 MiB always go in one PUT).
    public var uploadMode: UploadMode = .streamed
    /// What `verify` pulls of each tag (`--pull`, `--blobs`).
    public var verifyDepth: ImageVerifier.Depth = .tags
    /// With a shared queue: how often a job may lose its lease (its runner stopped renewing it) before it is given up.
    public var maxLeasesLost = 3
    /// With a shared queue: how long a job this process claimed stays its own without a heartbeat (renewed every
    /// third of it); a runner that dies loses its jobs to the others after this.
    public var lease: Duration = .seconds(30)

    public init() {}
}

/// Makes the network transport a run sends through; tests hand in an in-process registry instead.
public protocol TransportProvider: Sendable {
    func transport(for access: RegistryAccess, options: RunOptions) -> (transport: any HTTPTransport,
                                                                       shutdown: @Sendable () async -> Void)
}

/// The real network: one async-http-client pool per run, `concurrency + 2` connections.
public struct NetworkTransports: TransportProvider {
    public init() {}

    public func transport(for access: RegistryAccess, options: RunOptions) -> (transport: any HTTPTransport,
                                                                              shutdown: @Sendable () async -> Void) {
        let client = AsyncHTTPClientTransport(timeout: options.requestTimeout,
                                              maxConnectionsPerHost: options.concurrency + 2, trust: access.trust)
        return (client, { try? await client.shutdown() })
    }
}

/// What a workflow needs from its surroundings: the clock, the network, the logger, facts about the invocation.
public struct WorkflowContext: Sendable {
    public var time: any TimeSource
    public var transports: any TransportProvider
    public var logger: Logger
    public var environment: RunEnvironment
    public var progress: any ProgressSink
    /// Where this process shares each host's request budget with other runners (the PostgreSQL store), if anywhere.
    public var rateBudget: (any SharedRateBudget)?

    public init(time: any TimeSource = SystemTime(), transports: any TransportProvider = NetworkTransports(),
                logger: Logger = Logger(label: "stevedore"), environment: RunEnvironment = RunEnvironment(),
                progress: any ProgressSink = SilentProgress()) {
        self.time = time
        self.transports = transports
        self.logger = logger
        self.environment = environment
        self.progress = progress
    }

    /// Runs `body` with a client for `access`, its requests paced by one rate limiter for the host, metered per
    /// attempt and logged at debug level; the connection pool is always shut down. `onPause` hears of every pause.
    func withClient<T: Sendable>(_ access: RegistryAccess, _ options: RunOptions,
                                 onPause: @escaping @Sendable (RateLimiter.Pause) -> Void = { _ in },
                                 _ body: (RegistryClient) async throws -> T) async throws -> T {
        try await withTransport(access, options, onPause: onPause) { transport in
            try await body(RegistryClient(registry: access.registry, transport: transport,
                                          credentials: access.credentials, plainHTTP: access.plainHTTP, time: time))
        }
    }

    /// Runs `body` with the transport to `access`'s host that every kind of job uses: paced by one rate limiter for
    /// the host, metered per attempt, logged at debug level; the connection pool is always shut down.
    func withTransport<T: Sendable>(_ access: RegistryAccess, _ options: RunOptions,
                                    onPause: @escaping @Sendable (RateLimiter.Pause) -> Void = { _ in },
                                    _ body: (any HTTPTransport) async throws -> T) async throws -> T {
        let (transport, shutdown) = pacedTransport(access, options, onPause: onPause)
        do {
            let result = try await body(transport)
            await shutdown()
            return result
        } catch {
            await shutdown()
            throw error
        }
    }

    /// The transport ``withTransport(_:_:onPause:_:)`` hands out, for a caller that keeps it open longer (a run's
    /// source registries); call `shutdown` once.
    func pacedTransport(_ access: RegistryAccess, _ options: RunOptions,
                        onPause: @escaping @Sendable (RateLimiter.Pause) -> Void = { _ in })
        -> (transport: any HTTPTransport, shutdown: @Sendable () async -> Void) {
        let (network, shutdown) = transports.transport(for: access, options: options)
        let limiter = RateLimiter(.init(rate: HostPolicy.rate(forHost: access.registry.host, requested: options.rate)),
                                  time: time, shared: rateBudget, host: access.registry.description)
        let throttled = ThrottledTransport(base: LoggingTransport(base: network, logger: logger), limiter: limiter,
                                           now: { [time] in time.wallClock }, onPause: onPause)
        return (MeteredTransport(base: throttled), shutdown)
    }

    /// Pings the registry (`/v2/`, with the credentials); returns why it is not usable, if it is not.
    func ping(_ client: RegistryClient) async -> JobFailure? {
        do {
            try await client.ping()
            return nil
        } catch {
            return JobFailure.classify(error, now: time.wallClock)
        }
    }

    /// Pings the registry; a failure becomes the one-line preflight error (exit 4).
    func preflight(_ client: RegistryClient, _ access: RegistryAccess) async throws(WorkflowError) {
        if let failure = await ping(client) {
            throw .unavailable(Self.preflightMessage(failure, access))
        }
    }

    /// Pings the registry with the credentials (for `login`); throws the preflight error when they are refused.
    public func checkLogin(_ access: RegistryAccess, _ options: RunOptions = RunOptions()) async throws {
        try await withClient(access, options) { client in try await preflight(client, access) }
    }

    /// The one-line error for a registry that cannot be used, with the remedy.
    static func preflightMessage(_ failure: JobFailure, _ access: RegistryAccess) -> String {
        let registry = access.registry
        switch failure.failureClass {
        case .authFailed where access.credentials == nil:
            return "registry \(registry) requires credentials; export USER_NAME and CR_PAT "
                + "(or STEVEDORE_USERNAME and STEVEDORE_PASSWORD), or pass --username U --password-stdin"
        case .authFailed:
            return "registry \(registry) refused the credentials (\(failure.message)); check the username and password or token"
        case .denied:
            return "registry \(registry) denied access (\(failure.message)); use credentials allowed to push there"
        case .network:
            return "cannot reach registry \(registry): \(failure.message); check the address and that the registry is running"
        default:
            return "registry \(registry) is not usable: \(failure.message)"
        }
    }
}
