import Foundation
import Testing
@testable import OCI
import Credentials
import HTTPTransport
import TestSupport
import Timekeeping

@Suite struct BearerAuthTests {
    static let alice = Credentials(username: "alice", secret: "s3cr3t-Pa55")

    /// authorize() then a whole push (tags, blob mount/upload, manifest) uses one token request.
    @Test func oneTokenRequestForAuthorizeAndAWholePush() async throws {
        let fake = FakeRegistry { $0.auth = .bearer(username: "alice", password: "s3cr3t-Pa55") }
        fake.addBlob("ns/src", layerDigest)
        let registry = client(fake, credentials: Self.alice)
        try await registry.authorize(repository: repo("ns/app"), push: true, mountSources: [repo("ns/src")])
        #expect(try await registry.tags(repository: repo("ns/app")) == nil)
        #expect(try await registry.pushBlob(repository: repo("ns/app"), digest: layerDigest, size: Int64(layer.count), content: .bytes(layer),
                                            mountFrom: repo("ns/src"), checkExists: false) == .mounted)
        let other = Array("config".utf8)
        #expect(try await registry.pushBlob(repository: repo("ns/app"), digest: Digest.sha256(other), size: Int64(other.count), content: .bytes(other),
                                            mountFrom: nil, checkExists: true) == .uploaded)
        _ = try await registry.putManifest(repository: repo("ns/app"), reference: "latest", bytes: manifestBytes,
                                           mediaType: MediaType.ociManifest)
        #expect(try await registry.manifestDescriptor(repository: repo("ns/app"), reference: "latest") != nil)

        let tokens = fake.tokenRequests
        #expect(tokens.count == 1)
        #expect(fake.tokenRequests.count == 1)
        let query = URLComponents(string: tokens[0].url)!.queryItems!
        #expect(query.filter { $0.name == "service" }.map(\.value) == ["registry.test"])
        #expect(query.filter { $0.name == "scope" }.map(\.value) == ["repository:ns/app:pull,push", "repository:ns/src:pull"])
        #expect(tokens[0].authorization == FakeRegistry.basic("alice", "s3cr3t-Pa55"))
        // Only the learning GET /v2/ went out without a token; nothing else was refused.
        let registryRequests = fake.registryRequests
        #expect(registryRequests.first?.path == "/v2/")
        #expect(registryRequests.dropFirst().allSatisfy { $0.authorization == "Bearer tok-1" })
    }

    @Test func authorizeIsANoOpWithoutBearer() async throws {
        let anonymous = FakeRegistry()
        try await client(anonymous).authorize(repository: repo("ns/app"), push: true, mountSources: [])
        #expect(anonymous.tokenRequests.isEmpty)
        let basic = FakeRegistry { $0.auth = .basic(username: "alice", password: "pw") }
        let basicClient = client(basic, credentials: Credentials(username: "alice", secret: "pw"))
        try await basicClient.authorize(repository: repo("ns/app"), push: true, mountSources: [])
        #expect(basic.tokenRequests.isEmpty)
    }

    @Test func tokensAreLearnedFromA401AndCachedUntilExpiry() async throws {
        let fake = FakeRegistry {
            $0.auth = .bearer(username: nil, password: nil)
            $0.tokenLifetime = 2
            $0.tokenKey = "access_token"
        }
        fake.addManifest("ns/app", tag: "v1", bytes: manifestBytes)
        let time = ManualTime()
        let registry = client(fake, time: time)
        for _ in 0..<3 { _ = try await registry.manifestDescriptor(repository: repo("ns/app"), reference: "v1") }
        #expect(fake.tokenRequests.count == 1)
        #expect(fake.tokenRequests[0].authorization == nil, "anonymous token")
        // First HEAD: 401, token, retry. Then two HEADs with the cached token.
        #expect(fake.registryRequests.map(\.authorization) == [nil, "Bearer tok-1", "Bearer tok-1", "Bearer tok-1"])
        time.advance(by: .milliseconds(1700))
        _ = try await registry.manifestDescriptor(repository: repo("ns/app"), reference: "v1")
        #expect(fake.tokenRequests.count == 1, "still usable at 85% of its lifetime")
        time.advance(by: .milliseconds(200))
        _ = try await registry.manifestDescriptor(repository: repo("ns/app"), reference: "v1")
        #expect(fake.tokenRequests.count == 2, "expired token is replaced before use")
        #expect(fake.registryRequests.last?.authorization == "Bearer tok-2")
    }

    @Test func aDefaultLifetimeAppliesWithoutExpiresIn() async throws {
        let fake = FakeRegistry {
            $0.auth = .bearer(username: nil, password: nil)
            $0.tokenLifetime = nil
        }
        let registry = client(fake)
        try await registry.authorize(repository: repo("ns/app"), push: false, mountSources: [])
        try await registry.authorize(repository: repo("ns/app"), push: false, mountSources: [])
        #expect(fake.tokenRequests.count == 1)
    }

    @Test func aRefusedTokenIsRefreshedOnceThenRetried() async throws {
        let fake = FakeRegistry { $0.auth = .bearer(username: "alice", password: "s3cr3t-Pa55") }
        let registry = client(fake, credentials: Self.alice)
        try await registry.authorize(repository: repo("ns/app"), push: true, mountSources: [repo("ns/src")])
        fake.revokeAllTokens()
        _ = try await registry.putManifest(repository: repo("ns/app"), reference: "latest", bytes: manifestBytes,
                                           mediaType: MediaType.ociManifest)
        let tokens = fake.tokenRequests
        #expect(tokens.count == 2)
        let scopes = URLComponents(string: tokens[1].url)!.queryItems!.filter { $0.name == "scope" }.compactMap(\.value)
        #expect(scopes == ["repository:ns/app:pull,push", "repository:ns/src:pull"], "union with the cached token's scopes")
        #expect(fake.registryRequests.suffix(2).map(\.authorization) == ["Bearer tok-1", "Bearer tok-2"])
    }

    @Test func aSecond401FailsWithAuthentication() async {
        let fake = FakeRegistry { $0.auth = .bearer(username: "alice", password: "s3cr3t-Pa55") }
        fake.intercept { request in
            guard !request.url.hasPrefix(FakeRegistry.realm), request.url.contains("/manifests/") else { return nil }
            return FakeRegistry.error(401, "UNAUTHORIZED", "nope", ["WWW-Authenticate": #"Bearer realm="https://auth.test/token",service="registry.test""#])
        }
        let registry = client(fake, credentials: Self.alice)
        let error = await registryError {
            _ = try await registry.manifestDescriptor(repository: repo("ns/app"), reference: "latest")
        }
        guard case let .authentication(operation, status, _)? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(operation == "HEAD manifest ns/app:latest")
        #expect(status == 401)
        #expect(fake.registryRequests.filter { $0.path.contains("/manifests/") }.count == 2, "one retry only")
        #expect(!(error?.description.contains("s3cr3t") ?? true))
        #expect(!(error?.description.contains("tok-") ?? true))
    }

    @Test func theTokenEndpointRefusingCredentialsIsAnAuthenticationError() async {
        let fake = FakeRegistry { $0.auth = .bearer(username: "alice", password: "right") }
        let registry = client(fake, credentials: Credentials(username: "alice", secret: "wr0ng-Secret"))
        let error = await registryError { try await registry.ping() }
        guard case let .authentication(_, status, message)? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(status == 401)
        #expect(message == "registry https://auth.test/token rejected the credentials for alice")
        let description = error!.description
        #expect(!description.contains("wr0ng-Secret"))
        #expect(!description.contains(Data("alice:wr0ng-Secret".utf8).base64EncodedString()))
        #expect(!"\(Credentials(username: "alice", secret: "wr0ng-Secret"))".contains("wr0ng"))
    }

    @Test func insufficientScopeOnPushIsDenied() async {
        let fake = FakeRegistry {
            $0.auth = .bearer(username: "alice", password: "s3cr3t-Pa55")
            $0.grantPush = false
        }
        let registry = client(fake, credentials: Self.alice)
        let error = await registryError {
            try await registry.authorize(repository: repo("ns/app"), push: true, mountSources: [])
            _ = try await registry.putManifest(repository: repo("ns/app"), reference: "latest", bytes: manifestBytes,
                                               mediaType: MediaType.ociManifest)
        }
        #expect(error?.status == 401)
        #expect(error?.errorCode == "DENIED")
        #expect(fake.tokenRequests.count == 2, "one refresh before giving up")
    }

    @Test func forbiddenIsDenied() async {
        let fake = FakeRegistry()
        fake.intercept { $0.method == "POST" ? FakeRegistry.answer(403) : nil }
        let error = await registryError {
            _ = try await client(fake).pushBlob(repository: repo("ns/app"), digest: layerDigest, size: Int64(layer.count), content: .bytes(layer),
                                                mountFrom: nil, checkExists: false)
        }
        #expect(error?.status == 403)
        #expect(error?.errorCode == "DENIED")
    }

    @Test func pingFetchesOneUnscopedToken() async throws {
        let fake = FakeRegistry { $0.auth = .bearer(username: "alice", password: "s3cr3t-Pa55") }
        let registry = client(fake, credentials: Self.alice)
        try await registry.ping()
        #expect(fake.tokenRequests.count == 1)
        #expect(URLComponents(string: fake.tokenRequests[0].url)!.queryItems!.map(\.name) == ["service"])
    }

    @Test func concurrentRequestsShareOneTokenFetch() async throws {
        let fake = FakeRegistry { $0.auth = .bearer(username: nil, password: nil) }
        fake.addManifest("ns/app", tag: "v1", bytes: manifestBytes)
        let registry = client(fake)
        try await registry.ping()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask { _ = try await registry.manifestDescriptor(repository: repo("ns/app"), reference: "v1") }
            }
            try await group.waitForAll()
        }
        #expect(fake.tokenRequests.count == 2, "ping + one shared fetch for ns/app")
    }
}
