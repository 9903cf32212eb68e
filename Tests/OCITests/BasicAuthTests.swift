import Testing
@testable import OCI
import Credentials
import HTTPTransport
import TestSupport
import Timekeeping

@Suite struct BasicAuthTests {
    static let bob = Credentials(username: "bob", secret: "hunter2-Secret")

    @Test func pingLearnsBasicThenEveryRequestCarriesIt() async throws {
        let fake = FakeRegistry { $0.auth = .basic(username: "bob", password: "hunter2-Secret") }
        let registry = client(fake, credentials: Self.bob)
        try await registry.ping()
        #expect(fake.recorded.map(\.authorization) == [nil, FakeRegistry.basic("bob", "hunter2-Secret")])
        _ = try await registry.pushBlob(repository: repo("ns/app"), digest: layerDigest, size: Int64(layer.count), content: .bytes(layer),
                                        mountFrom: nil, checkExists: true)
        let afterPing = fake.recorded.dropFirst(2)
        #expect(afterPing.map(\.method) == ["HEAD", "POST", "PUT"])
        #expect(afterPing.allSatisfy { $0.authorization == FakeRegistry.basic("bob", "hunter2-Secret") }, "sent proactively, no 401s")
    }

    @Test func withoutPingTheFirst401TeachesBasic() async throws {
        let fake = FakeRegistry { $0.auth = .basic(username: "bob", password: "hunter2-Secret") }
        let registry = client(fake, credentials: Self.bob)
        #expect(try await registry.tags(repository: repo("ns/app")) == nil)
        #expect(try await registry.tags(repository: repo("ns/app")) == nil)
        #expect(fake.recorded.map { $0.authorization != nil } == [false, true, true])
    }

    @Test func wrongPasswordIsAnAuthenticationErrorWithoutTheSecret() async {
        let fake = FakeRegistry { $0.auth = .basic(username: "bob", password: "right") }
        let registry = client(fake, credentials: Self.bob)
        let error = await registryError { try await registry.ping() }
        guard case let .authentication(operation, status, message)? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(operation == "GET /v2/")
        #expect(status == 401)
        #expect(message == "registry registry.test rejected the credentials for bob")
        #expect(!error!.description.contains("hunter2"))
    }

    @Test func missingCredentialsAreReported() async {
        let fake = FakeRegistry { $0.auth = .basic(username: "bob", password: "x") }
        let error = await registryError { try await client(fake).ping() }
        #expect(error?.description == "GET /v2/: registry registry.test requires credentials (http 401)")
    }

    @Test func credentialsNeverGoOverPlainHTTPToARemoteHost() async {
        let fake = FakeRegistry(base: "http://registry.example:5000") { $0.auth = .basic(username: "bob", password: "hunter2-Secret") }
        let registry = client(fake, registry: "registry.example:5000", credentials: Self.bob, plainHTTP: true)
        let error = await registryError { try await registry.ping() }
        guard case let .authentication(_, status, message)? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(status == nil)
        #expect(message.contains("refusing to send the credentials for bob over plain http to registry.example:5000"))
        let pushError = await registryError {
            _ = try await registry.pushBlob(repository: repo("ns/app"), digest: layerDigest, size: Int64(layer.count), content: .bytes(layer),
                                            mountFrom: nil, checkExists: true)
        }
        guard case .authentication? = pushError else {
            Issue.record("got \(String(describing: pushError))")
            return
        }
        #expect(fake.recorded.allSatisfy { $0.authorization == nil })
        #expect(!fake.recorded.isEmpty)
    }

    @Test func bearerTokensFetchedWithCredentialsAreNotSentOverPlainHTTPEither() async {
        let fake = FakeRegistry(base: "http://registry.example") { $0.auth = .bearer(username: "bob", password: "hunter2-Secret") }
        let registry = client(fake, registry: "registry.example", credentials: Self.bob, plainHTTP: true)
        let error = await registryError {
            _ = try await registry.manifestDescriptor(repository: repo("ns/app"), reference: "latest")
        }
        guard case .authentication? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(fake.recorded.allSatisfy { $0.authorization == nil })
    }

    @Test func plainHTTPToLoopbackOrWhenAllowedCarriesCredentials() async throws {
        for (address, allowed) in [("127.0.0.1:5000", false), ("localhost:5000", false), ("[::1]:5000", false),
                                   ("registry.example:5000", true)] {
            let fake = FakeRegistry(base: "http://\(address)") { $0.auth = .basic(username: "bob", password: "hunter2-Secret") }
            let registry = client(fake, registry: address, credentials: Self.bob, plainHTTP: true,
                                  allowInsecureCredentials: allowed)
            try await registry.ping()
            #expect(fake.recorded.last?.authorization == FakeRegistry.basic("bob", "hunter2-Secret"))
        }
    }

    @Test func anonymousRegistryGetsNoCredentials() async throws {
        let fake = FakeRegistry()
        let registry = client(fake, credentials: Self.bob)
        try await registry.ping()
        _ = try await registry.tags(repository: repo("ns/app"))
        #expect(fake.recorded.allSatisfy { $0.authorization == nil })
    }
}
