import HTTPTransport
import Synchronization
@testable import OCI
import Testing
import TestSupport

/// The streamed and chunked upload modes against the in-process registry, which checks every Content-Range against
/// what the session holds (as docker-registry and ghcr.io do).
@Suite struct UploadModeTests {
    /// 10 000 bytes that are not all alike, so a chunk sent twice or out of order changes the digest.
    let bytes: [UInt8] = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 256) }
    var digest: Digest { Digest.sha256(bytes) }

    @Test func aStreamedUploadIsOnePatchThenAnEmptyPut() async throws {
        let fake = FakeRegistry()
        let registry = client(fake)
        #expect(try await registry.pushBlob(repository: repo("ns/app"), digest: digest, size: Int64(bytes.count),
                                            content: .bytes(bytes), mountFrom: nil, checkExists: false,
                                            mode: .streamed) == .uploaded)
        #expect(fake.hasBlob("ns/app", digest))
        let requests = fake.registryRequests
        #expect(requests.map(\.method) == ["POST", "PATCH", "PUT"])
        #expect(requests[1].bodyCount == bytes.count && requests[1].headers.allSatisfy { $0.name != "Content-Range" })
        #expect(requests[2].bodyCount == 0 && requests[2].url.hasSuffix("?digest=\(digest)"))
    }

    @Test(arguments: [1000, 3000, 4096, 10_000, 20_000])
    func aChunkedUploadSendsConsecutiveRanges(chunk: Int) async throws {
        let fake = FakeRegistry()
        let registry = client(fake)
        #expect(try await registry.pushBlob(repository: repo("ns/app"), digest: digest, size: Int64(bytes.count),
                                            content: .bytes(bytes), mountFrom: nil, checkExists: false,
                                            mode: .chunked(Int64(chunk))) == .uploaded)
        #expect(fake.hasBlob("ns/app", digest))
        let patches = fake.registryRequests.filter { $0.method == "PATCH" }
        let expected = stride(from: 0, to: bytes.count, by: chunk).map { "\($0)-\(min($0 + chunk, bytes.count) - 1)" }
        #expect(patches.map { request in request.headers.first { $0.name == "Content-Range" }?.value ?? "" } == expected)
        #expect(patches.map(\.bodyCount).reduce(0, +) == bytes.count)
    }

    @Test func aChunkOfAFileRegionIsReadFromItsOffset() async throws {
        // `range` gives each chunk straight from its offset (a file region), not by skipping the whole body.
        let fake = FakeRegistry()
        let registry = client(fake)
        let source = bytes
        let asked = RangeLog()
        #expect(try await registry.pushBlob(repository: repo("ns/app"), digest: digest, size: Int64(bytes.count),
                                            content: .bytes(bytes), mountFrom: nil, checkExists: false,
                                            mode: .chunked(4000), range: { offset, length in
                                                asked.add(offset, length)
                                                return .bytes(source[Int(offset)..<Int(offset + length)])
                                            }) == .uploaded)
        #expect(asked.all == [[0, 4000], [4000, 4000], [8000, 2000]])
        #expect(fake.hasBlob("ns/app", digest))
    }

    @Test func aRangeAnswerThatDoesNotEndWhereTheChunkEndsIsAnError() async throws {
        let fake = FakeRegistry()
        fake.intercept { request in
            request.method == "PATCH" ? FakeRegistry.answer(202, ["Location": "/v2/ns/app/blobs/uploads/x", "Range": "0-99"]) : nil
        }
        let registry = client(fake)
        await #expect(throws: RegistryError.self) {
            try await registry.pushBlob(repository: repo("ns/app"), digest: digest, size: Int64(bytes.count),
                                        content: .bytes(bytes), mountFrom: nil, checkExists: false, mode: .chunked(4000))
        }
    }
}

/// The ranges a chunked upload asked for.
final class RangeLog: Sendable {
    private let ranges = Mutex<[[Int64]]>([])
    func add(_ offset: Int64, _ length: Int64) { ranges.withLock { $0.append([offset, length]) } }
    var all: [[Int64]] { ranges.withLock { $0 } }
}
