import JobRunner
import OCIRegistry

extension RegistryAccess {
    /// Runs `body` with a client for this registry and always shuts its connection pool down.
    /// Requests are paced by one rate limiter for the host; `onPause` hears of every pause it makes.
    func withClient<T: Sendable>(_ options: ProvisionOptions,
                                 onPause: @escaping @Sendable (RateLimiter.Pause) -> Void = { _ in },
                                 _ body: (RegistryClient) async throws -> T) async throws -> T {
        let transport = AsyncHTTPClientTransport(timeout: options.requestTimeout,
                                                 maxConnectionsPerHost: options.concurrency + 2, trust: trust)
        let limiter = RateLimiter(.init(rate: RateDefaults.rate(for: registry, requested: options.rate)))
        let throttled = ThrottledTransport(base: transport, limiter: limiter, onPause: onPause)
        let client = RegistryClient(registry: registry, transport: MeteredTransport(base: throttled),
                                    credentials: credentials, plainHTTP: plainHTTP)
        let result: T
        do {
            result = try await body(client)
        } catch {
            try? await transport.shutdown()
            throw error
        }
        try? await transport.shutdown()
        return result
    }

    /// Pings the registry (`/v2/`, with the credentials); returns why it is not usable, if it is not.
    func ping(_ client: RegistryClient) async -> PushError? {
        do {
            try await client.ping()
            return nil
        } catch {
            return PushError.classify(error)
        }
    }

    /// Pings the registry; a failure becomes the one-line preflight error with exit 4.
    func preflight(_ client: RegistryClient) async throws(CommandError) {
        if let failure = await ping(client) {
            throw CommandError(preflightMessage(failure), status: .registryUnavailable)
        }
    }

    /// Pings the registry with the credentials; throws the preflight error when they are refused.
    public func checkLogin(_ options: ProvisionOptions) async throws {
        try await withClient(options) { client in try await preflight(client) }
    }

    /// The one-line error for a registry that cannot be used, with the remedy.
    func preflightMessage(_ failure: PushError) -> String {
        switch failure.failureClass {
        case .authFailed where credentials == nil:
            return "error: registry \(registry) requires credentials; export USER_NAME and CR_PAT "
                + "(or STEVEDORE_USERNAME and STEVEDORE_PASSWORD), or pass --username U --password-stdin"
        case .authFailed:
            return "error: registry \(registry) refused the credentials (\(failure.message)); check the username and password or token"
        case .denied:
            return "error: registry \(registry) denied access (\(failure.message)); use credentials allowed to push there"
        case .network:
            return "error: cannot reach registry \(registry): \(failure.message); check the address and that the registry is running"
        default:
            return "error: registry \(registry) is not usable: \(failure.message)"
        }
    }
}
