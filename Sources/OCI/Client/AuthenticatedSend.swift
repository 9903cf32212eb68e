import HTTPTransport
import HTTPTypes

/// The authentication loop around every registry request: attach what the learned scheme needs, and on
/// a 401 learn or refresh once and retry once.
///
/// See https://github.com/opencontainers/distribution-spec/blob/main/spec.md#determining-support
/// (the `WWW-Authenticate` challenge on 401 answers).
extension RegistryClient {
    /// What was attached to a request.
    enum Attached {
        case none
        case basic
        case bearer(BearerToken)

        var token: BearerToken? {
            if case .bearer(let token) = self { return token }
            return nil
        }
    }

    /// Sends `call` with authentication; returns any non-401 answer, throws for a 401 it cannot get past.
    func send(_ call: Call) async throws(RegistryError) -> CollectedResponse {
        try await collect(try await open(call), operation: call.operation)
    }

    /// ``send(_:)`` with the answer's body left to be streamed (blob downloads).
    func open(_ call: Call) async throws(RegistryError) -> TransportResponse {
        let sameOrigin = URLParts(call.url).map { $0.sameOrigin(as: baseParts) } ?? false
        var attached = sameOrigin ? try await authorization(for: call) : .none
        var retried = false
        while true {
            var request = TransportRequest(method: call.method, url: call.url, headerFields: call.headers, body: call.body,
                                           timeout: call.timeout)
            switch attached {
            case .none: break
            case .basic: request.headerFields[.authorization] = credentials!.basicAuthorization
            case .bearer(let token): request.headerFields[.authorization] = "Bearer \(token.value)"
            }
            let streamed = try await open(request, operation: call.operation)
            guard streamed.status == 401, sameOrigin else { return streamed }
            let response = try await collect(streamed, operation: call.operation)

            guard let challenge = Self.preferredChallenge(in: response) else {
                throw .authentication(operation: call.operation, status: 401,
                                      message: "registry \(registry) refused the request without a usable challenge")
            }
            if retried { throw finalUnauthorized(call, response, challenge, attached) }
            retried = true

            switch challenge.scheme {
            case .basic:
                learn(.basic)
                if case .basic = attached { throw rejectedCredentials(call.operation) }
                guard credentials != nil else { throw credentialsRequired(call.operation) }
                try checkCredentialsMayGo(toRegistry: call.operation)
                attached = .basic
            case .bearer:
                guard let realm = challenge.parameters["realm"], !realm.isEmpty else {
                    throw .authentication(operation: call.operation, status: 401,
                                          message: "registry \(registry) sent a bearer challenge without a realm")
                }
                learn(.bearer(realm: realm, service: challenge.parameters["service"]))
                var wanted = call.scopes.union(ScopeSet(challenge.scopes))
                if let used = attached.token {
                    tokens.invalidate(used.value)
                    wanted = wanted.union(used.scopes)
                }
                let token = try await bearerToken(covering: call.scopes.union(ScopeSet(challenge.scopes)),
                                                   fetchScopes: wanted, rejecting: attached.token?.value,
                                                   operation: call.operation)
                try checkTokenMayGo(token, operation: call.operation)
                attached = .bearer(token)
            }
        }
    }

    /// What to attach before the first attempt, from the scheme learned so far.
    private func authorization(for call: Call) async throws(RegistryError) -> Attached {
        switch mode {
        case .unknown, .anonymous:
            return .none
        case .basic:
            guard credentials != nil else { return .none }
            try checkCredentialsMayGo(toRegistry: call.operation)
            return .basic
        case .bearer:
            guard !call.scopes.isEmpty else { return .none }
            let token = try await bearerToken(covering: call.scopes, fetchScopes: call.scopes, rejecting: nil,
                                              operation: call.operation)
            try checkTokenMayGo(token, operation: call.operation)
            return .bearer(token)
        }
    }

    /// Bearer preferred over Basic when a registry offers both.
    static func preferredChallenge(in response: CollectedResponse) -> AuthChallenge? {
        let values = response.values(.wwwAuthenticate)
        guard !values.isEmpty else { return nil }
        let challenges = values.flatMap { AuthChallenge.parse($0) }
        return challenges.first { $0.scheme == .bearer } ?? challenges.first
    }

    func learn(_ mode: AuthMode) {
        state.withLock { $0.mode = mode }
    }

    /// A 401 after the one retry: `insufficient_scope` means the identity is known but not allowed (DENIED);
    /// anything else means the credentials or token were not accepted.
    private func finalUnauthorized(_ call: Call, _ response: CollectedResponse, _ challenge: AuthChallenge,
                                   _ attached: Attached) -> RegistryError {
        if challenge.parameters["error"]?.lowercased() == "insufficient_scope" {
            let scope = challenge.parameters["scope"].map { " (\($0))" } ?? ""
            let denied = RegistryErrorDetail(code: "DENIED", message: "insufficient scope\(scope)")
            return .http(operation: call.operation, status: 401, details: [denied] + ErrorBody.details(from: response.body),
                         retryAfter: response[.retryAfter])
        }
        switch attached {
        case .basic:
            return rejectedCredentials(call.operation)
        case .bearer where credentials != nil:
            return .authentication(operation: call.operation, status: 401,
                                   message: "registry \(registry) rejected the token issued for \(credentials!.username)")
        default:
            return credentialsRequired(call.operation)
        }
    }

    func rejectedCredentials(_ operation: String) -> RegistryError {
        .authentication(operation: operation, status: 401,
                        message: "registry \(registry) rejected the credentials for \(credentials?.username ?? "anonymous")")
    }

    func credentialsRequired(_ operation: String) -> RegistryError {
        .authentication(operation: operation, status: 401, message: "registry \(registry) requires credentials")
    }

    /// Credentials may go to the registry over https, or over http only to loopback (or when allowed).
    func checkCredentialsMayGo(toRegistry operation: String) throws(RegistryError) {
        guard !HostPolicy.mayCarryCredentials(to: baseParts, allowInsecure: allowInsecureCredentials) else { return }
        throw refusedInsecure(operation, destination: registry.description)
    }

    /// A token obtained with credentials stands for them: same rule as the credentials.
    private func checkTokenMayGo(_ token: BearerToken, operation: String) throws(RegistryError) {
        if token.withCredentials { try checkCredentialsMayGo(toRegistry: operation) }
    }

    func refusedInsecure(_ operation: String, destination: String) -> RegistryError {
        .authentication(operation: operation, status: nil,
                        message: "refusing to send the credentials for \(credentials?.username ?? "anonymous") over plain http to \(destination), which is not a loopback address")
    }
}
