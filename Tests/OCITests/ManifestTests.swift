import Testing
@testable import OCI
import Credentials
import HTTPTransport
import TestSupport
import Timekeeping

@Suite struct ManifestTests {
    @Test func putThenHead() async throws {
        let fake = FakeRegistry()
        let registry = client(fake)
        let digest = try await registry.putManifest(repository: repo("ns/app"), reference: "latest",
                                                    bytes: manifestBytes, mediaType: MediaType.ociManifest)
        #expect(digest == Digest.sha256(manifestBytes))
        let put = fake.recorded[0]
        #expect(put.method == "PUT")
        #expect(put.url == "https://registry.test/v2/ns/app/manifests/latest")
        #expect(put.headers.contains { $0.name == "Content-Type" && $0.value == MediaType.ociManifest })

        let descriptor = try await registry.manifestDescriptor(repository: repo("ns/app"), reference: "latest")
        #expect(descriptor == ManifestDescriptor(digest: digest, mediaType: MediaType.ociManifest, size: manifestBytes.count))
        let head = fake.recorded[1]
        #expect(head.method == "HEAD")
        #expect(head.headers.contains { $0.name == "Accept" && $0.value == MediaType.manifestAccept.joined(separator: ", ") })
    }

    @Test func headWithoutDigestHeaderFallsBackToGet() async throws {
        let fake = FakeRegistry { $0.sendDigestHeaders = false }
        fake.addManifest("ns/app", tag: "v1", bytes: manifestBytes, mediaType: MediaType.dockerManifest)
        let descriptor = try await client(fake).manifestDescriptor(repository: repo("ns/app"), reference: "v1")
        #expect(descriptor?.digest == Digest.sha256(manifestBytes))
        #expect(descriptor?.mediaType == MediaType.dockerManifest)
        #expect(fake.recorded.map(\.method) == ["HEAD", "GET"])
    }

    @Test func missingManifestsAreNil() async throws {
        let registry = client(FakeRegistry())
        #expect(try await registry.manifestDescriptor(repository: repo("ns/app"), reference: "latest") == nil)
        #expect(try await registry.manifest(repository: repo("ns/app"), reference: "latest") == nil)
    }

    @Test func getByDigest() async throws {
        let fake = FakeRegistry()
        fake.addManifest("ns/app", tag: "v1", bytes: manifestBytes)
        let digest = Digest.sha256(manifestBytes)
        let fetched = try #require(try await client(fake).manifest(repository: repo("ns/app"), reference: digest.description))
        #expect(fetched.bytes == manifestBytes)
        #expect(fetched.digest == digest)
        #expect(fetched.mediaType == MediaType.ociManifest)
        #expect(fake.recorded[0].url == "https://registry.test/v2/ns/app/manifests/\(digest)")
    }

    @Test func putManifestVerifiesTheAnsweredDigest() async {
        let fake = FakeRegistry { $0.wrongManifestDigest = true }
        let error = await registryError {
            _ = try await client(fake).putManifest(repository: repo("ns/app"), reference: "latest",
                                                   bytes: manifestBytes, mediaType: MediaType.ociManifest)
        }
        guard case let .digestMismatch(operation, expected, _)? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(operation == "PUT manifest ns/app:latest")
        #expect(expected == Digest.sha256(manifestBytes))
    }

    @Test func httpErrorsKeepDetailsAndRetryAfter() async {
        let fake = FakeRegistry()
        fake.intercept { _ in
            FakeRegistry.error(429, "TOOMANYREQUESTS", "retry-after: 10.48ms, allowed: 2000/minute", ["Retry-After": "2"])
        }
        let error = await registryError {
            _ = try await client(fake).putManifest(repository: repo("ns/app"), reference: "latest",
                                                   bytes: manifestBytes, mediaType: MediaType.ociManifest)
        }
        guard case let .http(operation, status, details, retryAfter)? = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(operation == "PUT manifest ns/app:latest")
        #expect(status == 429)
        #expect(details.first?.message == "retry-after: 10.48ms, allowed: 2000/minute")
        #expect(retryAfter == "2")
    }

    @Test func htmlErrorBodiesGiveNoDetails() async {
        let fake = FakeRegistry()
        fake.intercept { _ in FakeRegistry.answer(502, body: Array("<html>bad gateway</html>".utf8)) }
        let error = await registryError { _ = try await client(fake).tags(repository: repo("ns/app")) }
        #expect(error?.status == 502)
        #expect(error?.errorCode == nil)
        #expect(error?.description == "GET tags ns/app: registry answered 502")
    }
}

@Suite struct TagListTests {
    @Test func followsLinkPagination() async throws {
        let fake = FakeRegistry { $0.tagPageSize = 2 }
        for tag in ["a", "b", "c", "d", "e"] { fake.addManifest("ns/app", tag: tag, bytes: manifestBytes) }
        let tags = try await client(fake).tags(repository: repo("ns/app"))
        #expect(tags == ["a", "b", "c", "d", "e"])
        let urls = fake.recorded.map(\.url)
        #expect(urls.count == 3)
        #expect(urls[0] == "https://registry.test/v2/ns/app/tags/list?n=1000")
        #expect(urls[1] == "https://registry.test/v2/ns/app/tags/list?n=2&last=b")
    }

    @Test func unknownRepositoryIsNil() async throws {
        #expect(try await client(FakeRegistry()).tags(repository: repo("ns/none")) == nil)
    }

    @Test func nullTagsAreEmpty() async throws {
        let fake = FakeRegistry()
        fake.intercept { _ in FakeRegistry.answer(200, body: Array(#"{"name":"ns/app","tags":null}"#.utf8)) }
        #expect(try await client(fake).tags(repository: repo("ns/app")) == [])
    }

    @Test func aLinkLoopStops() async throws {
        let fake = FakeRegistry()
        fake.intercept { _ in
            FakeRegistry.answer(200, ["Link": #"</v2/ns/app/tags/list?n=1000>; rel="next""#],
                                body: Array(#"{"tags":["x"]}"#.utf8))
        }
        #expect(try await client(fake).tags(repository: repo("ns/app")) == ["x"])
        #expect(fake.recorded.count == 1)
    }
}
