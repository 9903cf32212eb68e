import Foundation
import HTTPTransport
import OCI
import Timekeeping
import Workflows

/// The checklist for one registry, as GitHub's guide for ghcr.io walks it: which credentials were found, whether
/// the registry answers (and its TLS certificate is trusted), whether the clocks agree, whether the login and token
/// exchange work, and what the credentials may do in each target repository. Nothing is written.
public struct RegistryDiagnosis: Sendable {
    public var access: RegistryAccess
    public var repositories: [RepositoryName]
    /// Images read from this registry (`image: docker://...`): each must resolve with the source credentials.
    public var sources: [ImageReference] = []
    /// What the credentials should be able to do: read-write for publishing, read-only for a partner's token.
    public var expected: RepositoryPermission.Level
    public var transport: any HTTPTransport
    public var time: any TimeSource
    /// Repositories checked at once.
    public var concurrency = 8

    public init(access: RegistryAccess, repositories: [RepositoryName], expected: RepositoryPermission.Level = .readWrite,
                transport: any HTTPTransport, time: any TimeSource = SystemTime()) {
        self.access = access
        self.repositories = repositories
        self.expected = expected
        self.transport = transport
        self.time = time
    }

    var host: String { access.registry.description }

    public func run() async -> [DoctorCheck] {
        var checks = [credentialsCheck]
        let client = RegistryClient(registry: access.registry, transport: transport, credentials: access.credentials,
                                    plainHTTP: access.plainHTTP, time: time)
        let facts: EndpointFacts
        do {
            facts = try await client.endpointFacts()
        } catch {
            checks.append(Self.unreachable(error, host: host))
            return checks
        }
        checks.append(endpointCheck(facts))
        checks.append(ClockCheck.check(server: facts.date, local: time.wallClock, subject: host))
        let login = await loginCheck(client, facts)
        checks.append(login)
        guard login.outcome != .fail else { return checks }
        if !sources.isEmpty {
            checks += await sourceChecks(client)
        } else if repositories.isEmpty {
            checks.append(DoctorCheck("push", host, .info, "no services file given: access to repositories not checked"))
        } else {
            checks += PermissionSummary(host: host, expected: expected).checks(await permissions(client))
        }
        return checks
    }

    /// Where the credentials came from (never the secret).
    var credentialsCheck: DoctorCheck {
        guard let credentials = access.credentials else {
            return DoctorCheck("credentials", host, .info, "none found: requests go anonymously")
        }
        return DoctorCheck("credentials", host, .info,
                           "\(access.credentialSource ?? "given") (user \(credentials.username))")
    }

    /// A credentials lookup that failed before anything was sent (a broken helper, plain HTTP to a remote host).
    public static func credentialsFailed(host: String, message: String) -> DoctorCheck {
        DoctorCheck("credentials", host, .fail, message,
                    remedy: "fix the credential source named, or pass --username U --password-stdin")
    }

    private func endpointCheck(_ facts: EndpointFacts) -> DoctorCheck {
        let scheme = switch (access.plainHTTP, access.trust) {
        case (true, _): "http"
        case (false, .system): "https, certificate trusted (system trust store)"
        case (false, .certificateFile(let path)): "https, certificate trusted (--ca-cert \(path))"
        case (false, .insecureSkipVerify): "https, certificate NOT verified (--insecure-skip-tls-verify)"
        }
        let auth = switch facts.scheme {
        case .bearer: "bearer tokens from \(Self.realmShown(facts.realm))"
        case .basic: "basic auth"
        case nil: facts.status == 200 ? "anonymous access" : "no auth challenge"
        }
        let healthy = facts.status == 200 || facts.status == 401
        let detail = "answers GET /v2/ with \(facts.status) over \(scheme); \(auth)"
        guard healthy else {
            return DoctorCheck("registry", host, .fail, detail, remedy: "this does not look like an OCI registry: check the address")
        }
        if !access.plainHTTP, access.trust == .insecureSkipVerify {
            return DoctorCheck("registry", host, .warn, detail,
                               remedy: "anyone between here and the registry can read the token: pass --ca-cert FILE instead")
        }
        return DoctorCheck("registry", host, .pass, detail)
    }

    private static func realmShown(_ realm: String?) -> String {
        guard let realm, let parts = URLParts(realm) else { return "an unnamed realm" }
        return "\(parts.scheme)://\(parts.authority)\(parts.path)"
    }

    static func unreachable(_ error: RegistryError, host: String) -> DoctorCheck {
        if case .transport(_, let failure) = error, failure.kind == .tls {
            return DoctorCheck("registry", host, .fail, failure.message, remedy: Remedy.untrusted)
        }
        return DoctorCheck("registry", host, .fail, "cannot reach \(host): \(error.description)",
                           remedy: Remedy.unreachable)
    }

    /// `GET /v2/` with the credentials: Basic is checked directly, bearer by a token exchange without scope.
    private func loginCheck(_ client: RegistryClient, _ facts: EndpointFacts) async -> DoctorCheck {
        let what = facts.scheme == .bearer ? "token exchange" : "login"
        do {
            try await client.ping()
        } catch {
            if error.isRefusalOfCredentials {
                if access.credentials == nil {
                    return DoctorCheck("login", host, .fail, "\(host) requires credentials and none were found",
                                       remedy: Remedy.noCredentials.replacingOccurrences(of: "HOST", with: host))
                }
                return DoctorCheck("login", host, .fail,
                                   "\(what) refused (denied: the token is wrong, expired or revoked): \(error.description)",
                                   remedy: Remedy.newToken.replacingOccurrences(of: "HOST", with: host))
            }
            return DoctorCheck("login", host, .fail, error.description, remedy: Remedy.unreachable)
        }
        guard let credentials = access.credentials else {
            return DoctorCheck("login", host, .pass, "anonymous access accepted")
        }
        return DoctorCheck("login", host, .pass, "\(what) works for \(credentials.username)")
    }

    /// One HEAD per source image: it must exist and these credentials must be allowed to pull it.
    private func sourceChecks(_ client: RegistryClient) async -> [DoctorCheck] {
        var missing: [String] = [], refused: [String] = [], broken: [String] = []
        for reference in sources {
            do {
                if try await client.manifestDescriptor(repository: reference.repository, reference: reference.reference) == nil {
                    missing.append(reference.description)
                }
            } catch {
                if error.isRefusal { refused.append(reference.description) } else { broken.append("\(reference): \(error)") }
            }
        }
        var checks: [DoctorCheck] = []
        let total = sources.count
        if missing.isEmpty, refused.isEmpty, broken.isEmpty {
            checks.append(DoctorCheck("source", host, .pass, "all \(total) source images resolve"))
        }
        if !missing.isEmpty {
            checks.append(DoctorCheck("source", host, .fail, "\(missing.count) of \(total) source images not found: "
                                      + missing.prefix(3).joined(separator: ", "),
                                      remedy: "check the image names and tags in the services file"))
        }
        if !refused.isEmpty {
            checks.append(DoctorCheck("source", host, .fail, "\(refused.count) of \(total) source images may not be pulled: "
                                      + refused.prefix(3).joined(separator: ", "),
                                      remedy: "log in to the source (docker login \(host)) or pass --src-creds USER:TOKEN"))
        }
        if let first = broken.first {
            checks.append(DoctorCheck("source", host, .fail, first, remedy: Remedy.unreachable))
        }
        return checks
    }

    private func permissions(_ client: RegistryClient) async -> [(RepositoryName, Result<RepositoryPermission, RegistryError>)] {
        let repositories = repositories
        var results = [Result<RepositoryPermission, RegistryError>?](repeating: nil, count: repositories.count)
        await withTaskGroup(of: (Int, Result<RepositoryPermission, RegistryError>).self) { group in
            var next = 0
            while next < repositories.count {
                if next >= concurrency, let (index, result) = await group.next() { results[index] = result }
                let index = next, repository = repositories[index]
                group.addTask { (index, await Self.permission(client, repository)) }
                next += 1
            }
            for await (index, result) in group { results[index] = result }
        }
        return zip(repositories, results).compactMap { repository, result in result.map { (repository, $0) } }
    }

    private static func permission(_ client: RegistryClient, _ repository: RepositoryName) async
        -> Result<RepositoryPermission, RegistryError> {
        do {
            return .success(try await client.permission(repository: repository))
        } catch {
            return .failure(error)
        }
    }
}

extension RegistryError {
    /// The registry or its token realm refused who we are (401), as opposed to what we asked.
    var isRefusalOfCredentials: Bool {
        switch self {
        case .authentication(_, let status, _): status == 401
        case .http(_, let status, _, _): status == 401
        default: false
        }
    }
}
