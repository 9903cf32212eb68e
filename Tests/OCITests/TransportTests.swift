import HTTPTransport
import Testing
import Timekeeping
@testable import OCI

/// A transport that waits on a virtual clock nobody advances: it answers only by being cancelled.
private struct StuckTransport: HTTPTransport {
    let time: ManualTime
    func send(_ request: TransportRequest) async throws -> TransportResponse {
        try await time.sleep(for: .seconds(30))
        return TransportResponse(status: 200)
    }
}

private struct FailingTransport: HTTPTransport {
    let error: TransportError
    func send(_ request: TransportRequest) async throws -> TransportResponse { throw error }
}

@Suite struct TransportTests {
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
        let time = ManualTime()
        let registry = RegistryClient(registry: try! RegistryHost(parsing: "x"), transport: StuckTransport(time: time),
                                      credentials: nil, plainHTTP: false, time: time)
        let task = Task { await registryError { try await registry.ping() } }
        while time.pendingSleepers == 0 { await Task.yield() }
        task.cancel()
        let error = await task.value
        #expect(error?.isCancellation == true)
    }
}
