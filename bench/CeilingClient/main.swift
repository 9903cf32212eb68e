import AsyncHTTPClient
import Foundation
import ImageSources
import NIOCore
import NIOHTTP1

/// The ceiling for `make bench`: the fewest requests a client can send to provision N repositories
/// with T tags on an anonymous registry, over keep-alive connections, C repositories at a time:
/// per repository one tags-list GET, two blob mounts from the first repository (the first one
/// uploads instead), and one manifest PUT per tag. No checks, no audit log, no retries.
///
/// Usage: bench-ceiling HOST:PORT NAMESPACE N TAGS CONCURRENCY
let arguments = CommandLine.arguments
guard arguments.count == 6, let count = Int(arguments[3]), let concurrency = Int(arguments[5]) else {
    FileHandle.standardError.write(Data("usage: BenchCeiling HOST:PORT NAMESPACE N TAG,TAG CONCURRENCY\n".utf8))
    exit(2)
}
let base = "http://\(arguments[1])"
let namespace = arguments[2]
let tags = arguments[4].split(separator: ",").map(String.init)
let image = PlaceholderImage.image

var configuration = HTTPClient.Configuration()
configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = concurrency
let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)

func send(_ method: HTTPMethod, _ url: String, body: [UInt8]? = nil, contentType: String? = nil) async throws -> HTTPClientResponse {
    var request = HTTPClientRequest(url: url.hasPrefix("http") ? url : base + url)
    request.method = method
    if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
    if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
    let response = try await client.execute(request, timeout: .seconds(60))
    _ = try await response.body.collect(upTo: 1 << 20)
    return response
}

func upload(_ repository: String, _ blob: ImageBlob) async throws {
    let started = try await send(.POST, "/v2/\(repository)/blobs/uploads/")
    guard let location = started.headers.first(name: "Location") else { throw CeilingError("no Location") }
    let joined = location + (location.contains("?") ? "&" : "?") + "digest=\(blob.digest)"
    let done = try await send(.PUT, joined, body: blob.inMemoryBytes!, contentType: "application/octet-stream")
    guard done.status == .created else { throw CeilingError("upload answered \(done.status)") }
}

func provision(_ index: Int) async throws {
    let repository = "\(namespace)/svc-\(index)"
    _ = try await send(.GET, "/v2/\(repository)/tags/list")
    for blob in image.blobs {
        if index == 0 {
            try await upload(repository, blob)
        } else {
            let mounted = try await send(.POST, "/v2/\(repository)/blobs/uploads/?mount=\(blob.digest)&from=\(namespace)/svc-0")
            guard mounted.status == .created else { throw CeilingError("mount answered \(mounted.status)") }
        }
    }
    for tag in tags {
        let put = try await send(.PUT, "/v2/\(repository)/manifests/\(tag)", body: image.manifest,
                                 contentType: image.manifestMediaType)
        guard put.status == .created else { throw CeilingError("manifest PUT answered \(put.status)") }
    }
}

struct CeilingError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

do {
    try await provision(0)
    try await withThrowingTaskGroup(of: Void.self) { group in
        var next = 1
        for _ in 0..<min(concurrency, count - 1) {
            let index = next
            next += 1
            group.addTask { try await provision(index) }
        }
        while try await group.next() != nil, next < count {
            let index = next
            next += 1
            group.addTask { try await provision(index) }
        }
        try await group.waitForAll()
    }
    try await client.shutdown()
} catch {
    FileHandle.standardError.write(Data("bench-ceiling: \(error)\n".utf8))
    _ = try? await client.shutdown()
    exit(1)
}
