import HTTPTransport
import HTTPTypes

/// A blob's bytes as a registry sends them: streamed, never collected.
public struct BlobDownload: Sendable {
    /// The body's chunks, as they arrive.
    public let chunks: ByteChunks
    /// Where the body starts in the blob: the requested offset when the registry honoured the Range (206), else 0.
    public let offset: Int64
}

/// Blob downloads and the referrers API.
///
/// See https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-blobs (a registry may answer a
/// blob GET with a redirect to a storage host: the transport follows it and drops `Authorization` when the origin
/// changes) and #listing-referrers.
extension RegistryClient {
    /// GET /v2/<name>/blobs/<digest>; from `offset` with `Range: bytes=offset-` (a resumed download).
    /// `size` sets the deadline (large blobs get longer). Throws for any answer but 200/206.
    public func downloadBlob(repository: RepositoryName, digest: Digest, offset: Int64 = 0,
                             size: Int64) async throws(RegistryError) -> BlobDownload {
        let operation = "GET blob \(repository.value) \(digest.short)"
        var headers: HTTPFields = [:]
        if offset > 0 { headers[.range] = "bytes=\(offset)-" }
        let response = try await open(Call(method: .get, url: url(repository, "blobs/\(digest)"), headers: headers,
                                           operation: operation, scopes: .repository(repository, push: false),
                                           timeout: HTTPBody.uploadTimeout(max(0, size - offset))))
        switch response.status {
        case 200:
            return BlobDownload(chunks: response.body.stream(), offset: 0)
        case 206 where offset > 0:
            guard let start = response[.contentRange].flatMap(Self.rangeStart), start == offset else {
                throw invalid(operation, "206 for bytes=\(offset)- without a matching content-range")
            }
            return BlobDownload(chunks: response.body.stream(), offset: offset)
        default:
            throw failure(operation, try await collect(response, operation: operation))
        }
    }

    /// `bytes 100-199/200` -> 100.
    static func rangeStart(_ header: String) -> Int64? {
        let text = header.hasPrefix("bytes ") ? header.dropFirst(6) : Substring(header)
        guard let dash = text.firstIndex(of: "-") else { return nil }
        return Int64(text[..<dash].trimmingASCIISpaces())
    }

    /// GET /v2/<name>/referrers/<digest>: the descriptors of the manifests whose `subject` is `digest`, as the index
    /// document the registry answers; nil when the registry has no referrers API (404), so the caller falls back to
    /// the `sha256-<hex>` tag schema.
    public func referrers(repository: RepositoryName, digest: Digest) async throws(RegistryError) -> [UInt8]? {
        let operation = "GET referrers \(repository.value) \(digest.short)"
        let response = try await send(Call(method: .get, url: url(repository, "referrers/\(digest)"),
                                           headers: [.accept: MediaType.ociIndex], operation: operation,
                                           scopes: .repository(repository, push: false)))
        switch response.status {
        case 200:
            // A registry without the API may serve something else here; only an index counts.
            guard MediaType.essence(response[.contentType]) == MediaType.ociIndex else { return nil }
            return response.body
        case 404, 405: return nil
        default: throw failure(operation, response)
        }
    }
}
