import Foundation
import HTTPTransport
import HTTPTypes

/// What a registry says about itself before anything is authenticated: `GET /v2/` as an anonymous client sees it.
public struct EndpointFacts: Sendable, Equatable {
    /// The answer's status (200 anonymous registries, 401 with a challenge otherwise).
    public var status: Int
    /// The registry's clock, from its `Date` header (RFC 9110 §6.6.1), when it sent one.
    public var date: Date?
    /// `basic`, `bearer`, or nil when no challenge was offered.
    public var scheme: AuthChallenge.Scheme?
    /// The bearer token realm, when the registry named one.
    public var realm: String?
}

/// What the client's credentials may do in one repository, and how that was learned.
public struct RepositoryPermission: Sendable, Equatable {
    public enum Level: String, Sendable, Codable {
        /// May pull and push.
        case readWrite = "read-write"
        /// May pull only (a partner `read:packages` token).
        case readOnly = "read-only"
        /// May do neither.
        case none
    }

    public enum Evidence: String, Sendable, Codable {
        /// The `access` claim of the JWT the token realm issued for `pull,push`.
        case tokenClaims = "token scopes"
        /// A manifest PUT that no registry can accept (an empty body under a digest it does not match), so nothing
        /// is created; the answer tells authorised (400-class refusal of the content) from denied (401/403).
        case refusedProbe = "probe that writes nothing"
    }

    public var level: Level
    public var evidence: Evidence
    /// The registry's words, when it refused.
    public var detail: String?
}

/// Read-only diagnosis for `stevedore doctor`: what the registry answers and what the credentials may do.
///
/// The token flow is distribution's (https://distribution.github.io/distribution/spec/auth/token/): the realm's
/// JWT carries `access: [{type, name, actions}]`, the actions actually granted, which may be fewer than asked for.
extension RegistryClient {
    /// `GET /v2/` without credentials: reachability, TLS, the clock and the auth scheme, in one request.
    public func endpointFacts() async throws(RegistryError) -> EndpointFacts {
        let response = try await transmit(TransportRequest(method: .get, url: baseURL + "/v2/"), operation: "GET /v2/")
        let challenge = Self.preferredChallenge(in: response)
        return EndpointFacts(status: response.status, date: response[.date].flatMap(HTTPDate.parse),
                             scheme: challenge?.scheme, realm: challenge?.parameters["realm"])
    }

    /// What these credentials may do in `repository`, learned without writing anything.
    public func permission(repository: RepositoryName) async throws(RegistryError) -> RepositoryPermission {
        await ensureModeKnown()
        if case let .bearer(realm, service) = mode {
            if credentials != nil { try checkCredentialsMayGo(toRegistry: "GET token") }
            let token = try await fetchToken(realm: realm, service: service,
                                             scopes: .repository(repository, push: true))
            if let actions = Self.grantedActions(token: token.value, repository: repository) {
                let level: RepositoryPermission.Level = actions.contains("push")
                    ? (actions.contains("pull") ? .readWrite : .none)
                    : (actions.contains("pull") ? .readOnly : .none)
                return RepositoryPermission(level: level, evidence: .tokenClaims, detail: nil)
            }
        }
        return try await probePush(repository)
    }

    /// PUT of `{}` as an OCI manifest under the digest of nothing: authorised clients get a 400-class refusal of
    /// the content (nothing is stored), unauthorised ones 401/403. Pull access is then read with a HEAD.
    private func probePush(_ repository: RepositoryName) async throws(RegistryError) -> RepositoryPermission {
        let impossible = "sha256:" + String(repeating: "0", count: 64)
        let body: [UInt8] = Array("{}".utf8)
        let operation = "PUT manifest \(Self.display(repository, reference: impossible)) (probe)"
        let call = Call(method: .put, url: url(repository, "manifests/\(impossible)"),
                        headers: [.contentType: MediaType.ociManifest, .contentLength: String(body.count)],
                        body: .bytes(body), operation: operation, scopes: .repository(repository, push: true))
        let pushAnswer: Int
        var detail: String?
        do {
            let response = try await send(call)
            pushAnswer = response.status
            detail = ErrorBody.details(from: response.body).first.map { $0.message ?? $0.code }
        } catch let error where error.isRefusal {
            pushAnswer = error.status ?? 403
            detail = error.description
        }
        if (200..<300).contains(pushAnswer) {
            throw invalid(operation, "the registry accepted an empty manifest under a digest it does not match")
        }
        if pushAnswer != 401, pushAnswer != 403 {
            return RepositoryPermission(level: .readWrite, evidence: .refusedProbe, detail: nil)
        }
        let mayPull: Bool
        do {
            _ = try await manifestDescriptor(repository: repository, reference: "latest")
            mayPull = true
        } catch let error where error.isRefusal {
            mayPull = false
        }
        return RepositoryPermission(level: mayPull ? .readOnly : .none, evidence: .refusedProbe, detail: detail)
    }

    /// The actions the JWT `token` grants on `repository`; nil when it is not a JWT with an `access` claim
    /// (ghcr.io's tokens, say), so the answer has to come from a probe.
    static func grantedActions(token: String, repository: RepositoryName) -> Set<String>? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Base64URL.decode(String(parts[1])),
              let claims = try? JSONSerialization.jsonObject(with: payload) as? [String: Any],
              let access = claims["access"] as? [[String: Any]] else { return nil }
        var actions = Set<String>()
        for entry in access where entry["type"] as? String == "repository" {
            guard let name = entry["name"] as? String, name == repository.value || name == "*" else { continue }
            actions.formUnion((entry["actions"] as? [String]) ?? [])
        }
        if actions.contains("*") { actions = ["pull", "push"] }
        return actions
    }
}

extension RegistryError {
    /// A 401/403 answer, or a refused credential: the identity may not do this (as opposed to an outage).
    public var isRefusal: Bool {
        switch self {
        case .http(_, let status, _, _): status == 401 || status == 403
        case .authentication(_, let status, _): status == 401 || status == 403
        default: false
        }
    }
}

/// Base64url without padding (RFC 4648 §5), as JWT segments are written.
enum Base64URL {
    static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
