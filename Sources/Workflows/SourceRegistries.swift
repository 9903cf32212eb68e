import Credentials
import Foundation
import HTTPTransport
import ImagePush
import ImageSources
import JobRunner
import OCI
import Synchronization

/// How images are read from source registries (`docker://` sources, `stevedore copy`).
public struct SourceSettings: Sendable {
    /// `--src-creds USER[:PASSWORD]`: for every source registry; else each host's own docker config entry.
    public var credentials: Credentials?
    /// Hosts reached over plain HTTP (loopback always is, unless TLS trust is configured).
    public var plainHTTPHosts: [String] = []
    public var trust: TLSTrust = .system
    /// Requests per second to each source registry (nil: the host's default).
    public var rate: Double?
    /// Copy signatures, attestations and OCI referrers with each image.
    public var copyReferrers = true
    /// When the plan needs more pulls than a source allows now: wait for the window instead of stopping.
    public var waitForPullBudget = false
    /// How often a waiting run asks again (a HEAD, which is not a pull).
    public var pullBudgetPoll: Duration = .seconds(60)

    public init() {}
}

/// The registries a run copies from: one client per host, with its own credentials (never the destination's: the
/// environment variables meant for the destination are not consulted), its own rate limiter and connection pool,
/// and one ``SourceMeter``. Each distinct reference is resolved once (a HEAD) and fetched at most once per run.
public final class SourceRegistries: Sendable {
    public let settings: SourceSettings
    public let meter = SourceMeter()
    let context: WorkflowContext
    let options: RunOptions
    private let state = Mutex(State())

    private struct State {
        var clients: [RegistryHost: (client: RegistryClient, shutdown: @Sendable () async -> Void)] = [:]
        var images: [String: SourceImage] = [:]
        var budgets: [RegistryHost: PullBudget] = [:]
        var tags: [String: Task<Set<String>, any Error>] = [:]
        /// One reference per distinct image of each host, to ask again for the budget.
        var probes: [RegistryHost: [String: ImageReference]] = [:]
    }

    public init(settings: SourceSettings, context: WorkflowContext, options: RunOptions) {
        self.settings = settings
        self.context = context
        self.options = options
    }

    /// The client for a source registry (made on first use).
    func client(for reference: ImageReference) throws(WorkflowError) -> RegistryClient {
        if let open = state.withLock({ $0.clients[reference.apiHost] }) { return open.client }
        let access = try Self.access(for: reference, settings)
        var sourceOptions = options
        sourceOptions.rate = settings.rate
        let (transport, shutdown) = context.pacedTransport(access, sourceOptions)
        let client = RegistryClient(registry: access.registry, transport: transport, credentials: access.credentials,
                                    plainHTTP: access.plainHTTP, time: context.time)
        return state.withLock { state in
            if let open = state.clients[reference.apiHost] {
                Task { await shutdown() }
                return open.client
            }
            state.clients[reference.apiHost] = (client, shutdown)
            return client
        }
    }

    /// Where a source's requests go and as whom: `--src-creds`, else the docker config's entry for the host
    /// (Docker Hub's under `https://index.docker.io/v1/`), else `GITHUB_ACTOR`/`GITHUB_TOKEN` for GitHub's hosts,
    /// else anonymous.
    public static func access(for reference: ImageReference, _ settings: SourceSettings) throws(WorkflowError) -> RegistryAccess {
        try RegistryAccess.deciding(registry: reference.apiHost, plainHTTPHosts: settings.plainHTTPHosts,
                                    trust: settings.trust, role: "source ",
                                    plainFlag: "--src-plain-http") { () throws(CredentialsError) in
            if let credentials = settings.credentials {
                return CredentialResolver.Found(credentials: credentials, source: "--src-creds")
            }
            // Only docker's config and GitHub Actions' token: the destination's variables never reach a source.
            let environment = ProcessInfo.processInfo.environment.filter { key, _ in
                ["HOME", "PATH", "DOCKER_CONFIG", "GITHUB_ACTOR", "GITHUB_TOKEN"].contains(key)
            }
            let resolver = CredentialResolver(environment: environment)
            if let found = try resolver.resolve(host: reference.credentialKey, username: nil, stdinSecret: nil) { return found }
            return try resolver.resolve(host: reference.registry.description, username: nil, stdinSecret: nil)
        }
    }

    /// The image `reference` names, as a digest now (one HEAD) and its content on first use.
    public func image(_ reference: ImageReference) async throws -> SourceImage {
        let key = reference.description
        if let known = state.withLock({ $0.images[key] }) { return known }
        let client = try client(for: reference)
        let reader = RegistryImageReader(client: client, meter: meter)
        guard let head = try await head(reader, reference) else {
            throw ImageSourceError(key, "does not exist in its registry (manifest unknown)")
        }
        if let budget = head.pullBudget { note(budget, for: reference.apiHost) }
        let referrers = settings.copyReferrers
        let image = SourceImage(digest: head.digest) { [self] in
            let artifact = try await reader.load(reference, digest: head.digest)
            guard referrers else { return ResolvedImage(artifact: artifact) }
            let tags = try await tags(reference, client)
            return ResolvedImage(artifact: artifact, referrers: try await reader.referrers(
                of: artifact.manifestDigest, in: reference.repository, tags: tags))
        }
        return state.withLock { state in
            if let known = state.images[key] { return known }
            state.images[key] = image
            state.probes[reference.apiHost, default: [:]][head.digest.description] = reference
            return image
        }
    }

    /// The HEAD that resolves a reference, tried again (as jobs are) after a 429, a 5xx or a broken connection.
    private func head(_ reader: RegistryImageReader, _ reference: ImageReference) async throws -> ManifestDescriptor? {
        var attempt = 1
        while true {
            do {
                return try await reader.head(reference)
            } catch {
                let failure = JobFailure.classify(error, now: context.time.wallClock)
                guard failure.failureClass.isRetryable, attempt < options.maxAttempts else { throw error }
                let backoff = Duration.milliseconds(250 << min(attempt, 8))
                try await context.time.sleep(for: min(failure.retryAfter ?? backoff, .seconds(60)))
                attempt += 1
            }
        }
    }

    /// A source repository's tags, listed once per run (cosign's tags and the referrers tag schema are looked up in it).
    private func tags(_ reference: ImageReference, _ client: RegistryClient) async throws -> Set<String> {
        let key = "\(reference.apiHost)/\(reference.repository)"
        let task = state.withLock { state in
            if let task = state.tags[key] { return task }
            let task = Task { Set(try await client.tags(repository: reference.repository) ?? []) }
            state.tags[key] = task
            return task
        }
        return try await task.value
    }

    /// The lowest budget seen for a host.
    func note(_ budget: PullBudget, for host: RegistryHost) {
        state.withLock { state in
            if let seen = state.budgets[host], seen.remaining <= budget.remaining { return }
            state.budgets[host] = budget
        }
    }

    /// Distinct images per source host, and one reference to each host's first.
    var distinctImages: [RegistryHost: (count: Int, probe: ImageReference)] {
        state.withLock { state in
            state.probes.compactMapValues { references in
                references.values.sorted { $0.description < $1.description }.first.map { (references.count, $0) }
            }
        }
    }

    /// What a host says now (a later answer, not the lowest seen).
    func replace(_ budget: PullBudget, for host: RegistryHost) {
        state.withLock { $0.budgets[host] = budget }
    }

    /// The pull budgets the sources announced, by host.
    public var budgets: [RegistryHost: PullBudget] { state.withLock { $0.budgets } }

    /// Closes every source connection pool.
    public func shutdown() async {
        let all = state.withLock { state in
            defer { state.clients = [:] }
            return state.clients.values.map(\.shutdown)
        }
        for shutdown in all { await shutdown() }
    }
}
