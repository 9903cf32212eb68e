import Testing
@testable import OCI
import Credentials
import HTTPTransport
import TestSupport
import Timekeeping

@Suite struct BlobPushTests {
    @Test func monolithicUploadWithRelativeLocation() async throws {
        let fake = FakeRegistry()
        let registry = RegistryClient(registry: try RegistryHost(parsing: "registry.test"),
                                      transport: MeteredTransport(base: fake), credentials: nil, plainHTTP: false)
        let meter = RequestMeter()
        let result = try await RequestMeter.$current.withValue(meter) {
            try await registry.pushBlob(repository: repo("ns/app"), digest: layerDigest, size: Int64(layer.count),
                                        content: .bytes(layer), mountFrom: nil, checkExists: false)
        }
        #expect(result == .uploaded)
        #expect(fake.hasBlob("ns/app", layerDigest))
        let requests = fake.recorded
        #expect(requests.map(\.method) == ["POST", "PUT"])
        #expect(requests[0].url == "https://registry.test/v2/ns/app/blobs/uploads/")
        #expect(requests[1].url == "https://registry.test/v2/ns/app/blobs/uploads/session-1?digest=\(layerDigest)")
        #expect(requests[1].headers.contains { $0 == ("Content-Type", "application/octet-stream") })
        #expect(requests[1].headers.contains { $0 == ("Content-Length", String(layer.count)) })
        #expect(requests[1].bodyCount == layer.count)
        #expect(meter.requests == 2 && meter.bytesSent == Int64(layer.count) && fake.tokenRequests.isEmpty)
    }

    @Test(arguments: [FakeRegistry.LocationStyle.absolute, .absoluteWithQuery])
    func absoluteLocations(style: FakeRegistry.LocationStyle) async throws {
        let fake = FakeRegistry(base: "http://127.0.0.1:5000") { $0.location = style }
        let registry = client(fake, registry: "127.0.0.1:5000", plainHTTP: true)
        #expect(try await registry.pushBlob(repository: repo("ns/app"), digest: layerDigest, size: Int64(layer.count), content: .bytes(layer),
                                            mountFrom: nil, checkExists: false) == .uploaded)
        let put = fake.recorded[1].url
        let expected = style == .absolute
            ? "http://127.0.0.1:5000/v2/ns/app/blobs/uploads/session-1?digest=\(layerDigest)"
            : "http://127.0.0.1:5000/v2/ns/app/blobs/uploads/session-1?_state=opaque%3D&digest=\(layerDigest)"
        #expect(put == expected)
    }

    @Test func existingBlobIsNotUploaded() async throws {
        let fake = FakeRegistry()
        fake.addBlob("ns/app", layerDigest)
        let registry = client(fake)
        #expect(try await registry.pushBlob(repository: repo("ns/app"), digest: layerDigest, size: Int64(layer.count), content: .bytes(layer),
                                            mountFrom: nil, checkExists: true) == .alreadyPresent)
        #expect(fake.recorded.map(\.method) == ["HEAD"])
        #expect(try await registry.blobExists(repository: repo("ns/other"), digest: layerDigest) == false)
    }

    @Test func mountAnswered201() async throws {
        let fake = FakeRegistry()
        fake.addBlob("ns/src", layerDigest)
        let registry = client(fake)
        #expect(try await registry.pushBlob(repository: repo("ns/app"), digest: layerDigest, size: Int64(layer.count), content: .bytes(layer),
                                            mountFrom: repo("ns/src"), checkExists: false) == .mounted)
        let requests = fake.recorded
        #expect(requests.count == 1)
        #expect(requests[0].url == "https://registry.test/v2/ns/app/blobs/uploads/?mount=\(layerDigest)&from=ns/src")
        #expect(fake.hasBlob("ns/app", layerDigest))
    }

    @Test func mountAnswered202ContinuesThatUpload() async throws {
        let fake = FakeRegistry { $0.mountEnabled = false }
        let registry = client(fake)
        #expect(try await registry.pushBlob(repository: repo("ns/app"), digest: layerDigest, size: Int64(layer.count), content: .bytes(layer),
                                            mountFrom: repo("ns/src"), checkExists: false) == .uploaded)
        let requests = fake.recorded
        #expect(requests.map(\.method) == ["POST", "PUT"], "no second POST")
        #expect(requests[0].url.contains("?mount="))
        #expect(requests[1].url == "https://registry.test/v2/ns/app/blobs/uploads/session-1?digest=\(layerDigest)")
        #expect(fake.hasBlob("ns/app", layerDigest))
    }

    @Test func wrongDigestFromTheRegistryIsReported() async {
        let fake = FakeRegistry()
        let wrong = Digest.sha256([1, 2, 3])
        fake.intercept { request in
            request.method == "PUT" ? FakeRegistry.answer(201, ["Docker-Content-Digest": wrong.description]) : nil
        }
        let error = await registryError {
            _ = try await client(fake).pushBlob(repository: repo("ns/app"), digest: layerDigest, size: Int64(layer.count), content: .bytes(layer),
                                                mountFrom: nil, checkExists: false)
        }
        guard case let .digestMismatch(operation, expected, actual)? = error else {
            Issue.record("expected a digest mismatch, got \(String(describing: error))")
            return
        }
        #expect(operation == "PUT blob ns/app \(layerDigest.short)")
        #expect(expected == layerDigest)
        #expect(actual == wrong)
    }

    @Test func lostUploadSessionKeepsTheOperationAndCode() async {
        let fake = FakeRegistry()
        fake.intercept { request in
            request.method == "PUT" ? FakeRegistry.error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown") : nil
        }
        let error = await registryError {
            _ = try await client(fake).pushBlob(repository: repo("ns/app"), digest: layerDigest, size: Int64(layer.count), content: .bytes(layer),
                                                mountFrom: nil, checkExists: false)
        }
        #expect(error?.status == 404)
        #expect(error?.errorCode == "BLOB_UPLOAD_UNKNOWN")
        #expect(error?.operation.hasPrefix("PUT blob ns/app sha256:") == true)
    }

    @Test func missingLocationIsAnInvalidResponse() async {
        let fake = FakeRegistry()
        fake.intercept { $0.method == "POST" ? FakeRegistry.answer(202) : nil }
        let error = await registryError {
            _ = try await client(fake).pushBlob(repository: repo("ns/app"), digest: layerDigest, size: Int64(layer.count), content: .bytes(layer),
                                                mountFrom: nil, checkExists: false)
        }
        guard case .invalidResponse? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
    }
}
