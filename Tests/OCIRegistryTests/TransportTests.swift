import Testing
@testable import OCIRegistry

#if canImport(Glibc)
import Glibc
#endif

/// A transport that never answers in time, to check cancellation.
private struct SlowTransport: HTTPTransport {
    func send(_ request: HTTPRequestSpec) async throws -> HTTPResponseSpec {
        try await Task.sleep(for: .seconds(30))
        return HTTPResponseSpec(status: 200)
    }
}

private struct FailingTransport: HTTPTransport {
    let error: TransportError
    func send(_ request: HTTPRequestSpec) async throws -> HTTPResponseSpec { throw error }
}

@Suite struct TransportTests {
    @Test func countingTransportCounts() async throws {
        let counting = CountingTransport(FakeRegistry())
        let registry = RegistryClient(registry: try RegistryHost(parsing: "registry.test"), transport: counting,
                                      credentials: nil, plainHTTP: false)
        try await registry.ping()
        _ = try await registry.tags(repository: repo("a"))
        #expect(counting.requestCount == 2)
        #expect(registry.stats.requests == 2)
    }

    @Test func transportErrorsKeepTheirKind() async {
        let failing = FailingTransport(error: TransportError(kind: .reset, message: "connection to x was reset"))
        let registry = RegistryClient(registry: try! RegistryHost(parsing: "x"), transport: failing,
                                      credentials: nil, plainHTTP: false)
        let error = await registryError { _ = try await registry.blobExists(repository: repo("a"), digest: layerDigest) }
        guard case let .transport(operation, transportError)? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(operation == "HEAD blob a \(layerDigest.short)")
        #expect(transportError.kind == .reset)
    }

    @Test func cancellationIsReportedAsSuch() async {
        let registry = RegistryClient(registry: try! RegistryHost(parsing: "x"), transport: SlowTransport(),
                                      credentials: nil, plainHTTP: false)
        let task = Task { await registryError { try await registry.ping() } }
        try? await Task.sleep(for: .milliseconds(50))
        task.cancel()
        let error = await task.value
        #expect(error?.isCancellation == true)
    }

    @Test func errnoMapping() {
        #expect(TransportErrorMapping.map(errno: ECONNREFUSED, target: "h").kind == .connect)
        #expect(TransportErrorMapping.map(errno: ECONNRESET, target: "h").kind == .reset)
        #expect(TransportErrorMapping.map(errno: EPIPE, target: "h").kind == .reset)
        #expect(TransportErrorMapping.map(errno: ETIMEDOUT, target: "h").kind == .timeout)
        #expect(TransportErrorMapping.map(errno: ENOMEM, target: "h").kind == .other)
    }

    @Test func refusedConnectionIsAConnectError() async throws {
        // Port 1 on loopback: nothing listens there in test environments.
        let transport = AsyncHTTPClientTransport(timeout: .seconds(5), maxConnectionsPerHost: 2)
        let started = ContinuousClock.now
        do {
            _ = try await transport.send(HTTPRequestSpec(method: "GET", url: "http://127.0.0.1:1/v2/"))
            Issue.record("expected a failure")
        } catch let error as TransportError {
            #expect(error.kind == .connect, "\(error)")
            #expect(error.message.contains("127.0.0.1:1"))
        }
        #expect(ContinuousClock.now - started < .seconds(4), "fails fast instead of waiting out the deadline")
        try await transport.shutdown()
    }
}
