import Foundation
import HTTPTransport
import HTTPTypes

/// Ping, token prefetch and the token realm requests.
///
/// The registry names the realm in its `WWW-Authenticate: Bearer realm=…,service=…,scope=…` challenge
/// (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#determining-support); tokens come
/// from `GET realm?service=S&scope=A&scope=B`, with HTTP Basic credentials when the client has them.
extension RegistryClient {
    /// GET /v2/ ; learns the auth challenge (401) and validates credentials once (Basic: retry with creds;
    /// Bearer: fetch a token with no scope).
    public func ping() async throws(RegistryError) {
        let operation = "GET /v2/"
        let url = baseURL + "/v2/"
        let response = try await transmit(TransportRequest(method: .get, url: url), operation: operation)
        switch response.status {
        case 200..<300:
            state.withLock { if $0.mode == .unknown { $0.mode = .anonymous } }
        case 401:
            guard let challenge = Self.preferredChallenge(in: response) else {
                throw .authentication(operation: operation, status: 401,
                                      message: "registry \(registry) refused the request without a usable challenge")
            }
            switch challenge.scheme {
            case .basic:
                learn(.basic)
                guard let credentials else { throw credentialsRequired(operation) }
                try checkCredentialsMayGo(toRegistry: operation)
                let retry = TransportRequest(method: .get, url: url, headerFields: [.authorization: credentials.basicAuthorization])
                let answer = try await transmit(retry, operation: operation)
                if answer.status == 401 { throw rejectedCredentials(operation) }
                guard (200..<300).contains(answer.status) else { throw failure(operation, answer) }
            case .bearer:
                guard let realm = challenge.parameters["realm"], !realm.isEmpty else {
                    throw .authentication(operation: operation, status: 401,
                                          message: "registry \(registry) sent a bearer challenge without a realm")
                }
                learn(.bearer(realm: realm, service: challenge.parameters["service"]))
                _ = try await fetchToken(realm: realm, service: challenge.parameters["service"],
                                         scopes: ScopeSet(challenge.scopes))
            }
        default:
            throw failure(operation, response)
        }
    }

    /// Prefetches one bearer token covering pull,push on `repository` and pull on each `mountSources` (one token request). No-op for basic/anonymous.
    public func authorize(repository: RepositoryName, push: Bool, mountSources: [RepositoryName]) async throws(RegistryError) {
        await ensureModeKnown()
        guard case .bearer = mode else { return }
        var scopes = ScopeSet.repository(repository, push: push)
        for source in mountSources where source != repository {
            scopes = scopes.union(.repository(source, push: false))
        }
        _ = try await bearerToken(covering: scopes, fetchScopes: scopes, rejecting: nil,
                                  operation: "authorize \(repository.value)")
    }

    /// Learns the auth scheme with one unauthenticated `GET /v2/` if nothing is known yet; concurrent
    /// callers share that request. Failures are left for the real requests to report.
    func ensureModeKnown() async {
        let task: Task<Void, Never>? = state.withLock { state in
            guard state.mode == .unknown else { return nil }
            if let learning = state.learning { return learning }
            let learning = Task { await self.learnScheme() }
            state.learning = learning
            return learning
        }
        guard let task else { return }
        await task.value
        state.withLock { $0.learning = nil }
    }

    private func learnScheme() async {
        let request = TransportRequest(method: .get, url: baseURL + "/v2/")
        guard let response = try? await transmit(request, operation: "GET /v2/") else { return }
        if (200..<300).contains(response.status) {
            state.withLock { if $0.mode == .unknown { $0.mode = .anonymous } }
        } else if response.status == 401, let challenge = Self.preferredChallenge(in: response) {
            switch challenge.scheme {
            case .basic: learn(.basic)
            case .bearer:
                if let realm = challenge.parameters["realm"], !realm.isEmpty {
                    learn(.bearer(realm: realm, service: challenge.parameters["service"]))
                }
            }
        }
    }

    /// A usable token covering `required` from the cache, or fetched (once, shared) for `fetchScopes`.
    func bearerToken(covering required: ScopeSet, fetchScopes: ScopeSet, rejecting: String?,
                     operation: String) async throws(RegistryError) -> BearerToken {
        guard case let .bearer(realm, service) = mode else {
            throw .authentication(operation: operation, status: nil, message: "registry \(registry) did not ask for a bearer token")
        }
        if credentials != nil { try checkCredentialsMayGo(toRegistry: operation) }
        return try await tokens.token(covering: required, fetchScopes: fetchScopes, rejecting: rejecting) {
            [self] (scopes: ScopeSet) async throws(RegistryError) -> BearerToken in
            try await self.fetchToken(realm: realm, service: service, scopes: scopes)
        }
    }

    /// `GET realm?service=S&scope=A&scope=B`, Basic-authenticated when credentials are set.
    func fetchToken(realm: String, service: String?, scopes: ScopeSet) async throws(RegistryError) -> BearerToken {
        let operation = scopes.isEmpty ? "GET token" : "GET token \(scopes.key)"
        guard let realmParts = URLParts(realm) else {
            throw .authentication(operation: operation, status: nil, message: "registry \(registry) named an unusable token realm")
        }
        let realmShown = "\(realmParts.scheme)://\(realmParts.authority)\(realmParts.path)"
        var url = realmParts.absolute
        if let service, !service.isEmpty { url = URLParts.appendingQuery(url, "service", URLParts.encode(service)) }
        for scope in scopes.scopeStrings { url = URLParts.appendingQuery(url, "scope", URLParts.encode(scope)) }

        var request = TransportRequest(method: .get, url: url, headerFields: [.accept: "application/json"])
        if let credentials {
            if !HostPolicy.mayCarryCredentials(to: realmParts, allowInsecure: allowInsecureCredentials) {
                throw refusedInsecure(operation, destination: realmParts.authority)
            }
            request.headerFields[.authorization] = credentials.basicAuthorization
        }
        let requestedAt = time.wallClock
        let started = time.monotonic
        let response = try await transmit(request, operation: operation)
        switch response.status {
        case 200..<300:
            break
        case 401:
            let message = credentials.map { "registry \(realmShown) rejected the credentials for \($0.username)" }
                ?? "registry \(realmShown) requires credentials"
            throw .authentication(operation: operation, status: 401, message: message)
        default:
            throw failure(operation, response)
        }
        guard let decoded = try? JSON.decoder.decode(TokenResponse.self, from: Data(response.body)),
              let value = decoded.value else {
            throw invalid(operation, "the token realm answered without a token")
        }
        guard value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw invalid(operation, "the token realm answered with a malformed token")
        }
        let lifetime = decoded.remainingLifetime(requestedAt: requestedAt)
        let usableUntil = started + .milliseconds(Int64(lifetime * 900))  // 90%: 10% safety margin
        return BearerToken(value: value, scopes: scopes, usableUntil: usableUntil, withCredentials: credentials != nil)
    }
}
