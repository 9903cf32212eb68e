import HTTPTransport
import HTTPTypes

/// How a blob's bytes travel in an upload session.
///
/// See https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-blobs .
public enum UploadMode: Sendable, Equatable {
    /// POST, then one `PUT ?digest=` with the whole body.
    case monolithic
    /// POST, one streamed PATCH with the whole body (no Content-Range), then an empty `PUT ?digest=` (docker, skopeo).
    case streamed
    /// POST, PATCHes of at most this many bytes with `Content-Range`, each answered with the next Location and the
    /// Range received so far, then an empty `PUT ?digest=` (ghcr.io caps a chunk at 4 MiB).
    case chunked(Int64)
}

/// Blob existence checks, cross-repository mounts and uploads.
///
/// #mounting-a-blob-from-another-repository and #checking-if-content-exists-in-the-registry in the spec.
extension RegistryClient {
    /// HEAD /v2/<name>/blobs/<digest>: true on 200, false on 404.
    public func blobExists(repository: RepositoryName, digest: Digest) async throws(RegistryError) -> Bool {
        let operation = "HEAD blob \(repository.value) \(digest.short)"
        let response = try await send(Call(method: .head, url: url(repository, "blobs/\(digest)"),
                                           operation: operation, scopes: .repository(repository, push: false)))
        switch response.status {
        case 200..<300: return true
        case 404: return false
        default: throw failure(operation, response)
        }
    }

    /// Ensures the blob is in `repository`: mount from `mountFrom` when given (201 = done, 202 = continue that upload
    /// with the content), else open an upload session and send the content in `mode`. `checkExists` first does a HEAD.
    /// A streamed `content` starts over for every send (a retried request sends the body again). In chunked mode
    /// `range` gives the body of one chunk directly (a file region); without it a chunk skips `content` up to its start.
    public func pushBlob(repository: RepositoryName, digest: Digest, size: Int64, content: HTTPBody,
                         mountFrom: RepositoryName?, checkExists: Bool, mode: UploadMode = .monolithic,
                         range: (@Sendable (_ offset: Int64, _ length: Int64) -> HTTPBody)? = nil)
        async throws(RegistryError) -> BlobPushResult {
        if checkExists, try await blobExists(repository: repository, digest: digest) { return .alreadyPresent }
        let location: String
        switch try await startUpload(repository: repository, digest: digest, mountFrom: mountFrom) {
        case .mounted: return .mounted
        case .session(let url): location = url
        }
        let push = ScopeSet.repository(repository, push: true)
        let timeout = HTTPBody.uploadTimeout(size)
        switch mode {
        case .monolithic:
            let operation = "PUT blob \(repository.value) \(digest.short)"
            let response = try await send(Call(
                method: .put, url: URLParts.appendingQuery(location, "digest", digest.description),
                headers: [.contentType: "application/octet-stream", .contentLength: String(size)],
                body: content, operation: operation, scopes: push, timeout: timeout))
            guard (200..<300).contains(response.status) else { throw failure(operation, response) }
            try verify(response, expected: digest, operation: operation)
        case .streamed:
            let next = try await patch(location, repository: repository, digest: digest, body: content, range: nil,
                                       timeout: timeout)
            try await finishUpload(next, repository: repository, digest: digest)
        case .chunked(let chunkSize):
            var next = location
            var offset: Int64 = 0
            let body = content
            while offset < size {
                let length = min(chunkSize, size - offset)
                let piece = range?(offset, length) ?? Self.slice(body, offset: offset, length: length)
                next = try await patch(next, repository: repository, digest: digest, body: piece,
                                       range: offset..<(offset + length), timeout: HTTPBody.uploadTimeout(length))
                offset += length
            }
            try await finishUpload(next, repository: repository, digest: digest)
        }
        return .uploaded
    }

    /// The start of an upload: a mount that landed (201), or an upload session's absolute URL (202).
    public enum UploadStart: Sendable, Equatable { case mounted, session(String) }

    /// POST `blobs/uploads/` (with `mount=&from=` when a source is given).
    public func startUpload(repository: RepositoryName, digest: Digest,
                            mountFrom: RepositoryName?) async throws(RegistryError) -> UploadStart {
        let push = ScopeSet.repository(repository, push: true)
        let uploads = url(repository, "blobs/uploads/")
        if let source = mountFrom, source != repository {
            let operation = "POST blob mount \(repository.value) \(digest.short) from \(source.value)"
            let mountURL = uploads + "?mount=\(digest)&from=\(source.value)"
            let response = try await send(Call(method: .post, url: mountURL, headers: [.contentLength: "0"],
                                               operation: operation, scopes: push.union(.repository(source, push: false))))
            switch response.status {
            case 201:
                try verify(response, expected: digest, operation: operation)
                return .mounted
            case 202:
                return .session(try sessionURL(response, against: mountURL, operation: operation))
            default:
                throw failure(operation, response)
            }
        }
        let operation = "POST blob upload \(repository.value) \(digest.short)"
        let response = try await send(Call(method: .post, url: uploads, headers: [.contentLength: "0"],
                                           operation: operation, scopes: push))
        guard response.status == 202 else {
            if (200..<300).contains(response.status) { throw invalid(operation, "expected 202, got \(response.status)") }
            throw failure(operation, response)
        }
        return .session(try sessionURL(response, against: uploads, operation: operation))
    }

    /// One PATCH of the session at `location`; returns the next Location. With `range`, sends `Content-Range` and
    /// checks that the answered `Range` ends where this chunk ends.
    func patch(_ location: String, repository: RepositoryName, digest: Digest, body: HTTPBody, range: Range<Int64>?,
               timeout: Duration?) async throws(RegistryError) -> String {
        let operation = "PATCH blob \(repository.value) \(digest.short)"
        var headers: HTTPFields = [.contentType: "application/octet-stream"]
        if let length = body.knownLength { headers[.contentLength] = String(length) }
        if let range { headers[.contentRange] = "\(range.lowerBound)-\(range.upperBound - 1)" }
        let response = try await send(Call(method: .patch, url: location, headers: headers, body: body,
                                           operation: operation, scopes: .repository(repository, push: true),
                                           timeout: timeout))
        guard response.status == 202 || response.status == 204 else { throw failure(operation, response) }
        if let range, let received = response[.range].flatMap(Self.rangeEnd), received != range.upperBound - 1 {
            throw .invalidResponse(operation: operation,
                                   message: "the registry holds bytes 0-\(received), expected 0-\(range.upperBound - 1)")
        }
        return try sessionURL(response, against: location, operation: operation, fallback: location)
    }

    /// The empty `PUT <location>?digest=` that completes a session.
    func finishUpload(_ location: String, repository: RepositoryName, digest: Digest) async throws(RegistryError) {
        let operation = "PUT blob \(repository.value) \(digest.short)"
        let response = try await send(Call(
            method: .put, url: URLParts.appendingQuery(location, "digest", digest.description),
            headers: [.contentType: "application/octet-stream", .contentLength: "0"],
            operation: operation, scopes: .repository(repository, push: true)))
        guard (200..<300).contains(response.status) else { throw failure(operation, response) }
        try verify(response, expected: digest, operation: operation)
    }

    /// The Location of a session answer, resolved against the request URL.
    private func sessionURL(_ response: CollectedResponse, against base: String, operation: String,
                            fallback: String? = nil) throws(RegistryError) -> String {
        guard let value = response[.location] else {
            if let fallback { return fallback }
            throw invalid(operation, "202 without a location header")
        }
        guard let resolved = URLParts.resolve(value, against: base) else { throw invalid(operation, "unusable upload location") }
        return resolved
    }

    /// `0-1234` (docker-registry answers the inclusive last byte) -> 1234.
    static func rangeEnd(_ header: String) -> Int64? {
        let text = header.hasPrefix("bytes=") ? String(header.dropFirst(6)) : header
        guard let dash = text.firstIndex(of: "-") else { return nil }
        return Int64(text[text.index(after: dash)...].trimmingASCIISpaces())
    }

    /// `length` bytes of `body` from `offset`, as a body of its own.
    static func slice(_ body: HTTPBody, offset: Int64, length: Int64) -> HTTPBody {
        .stream(length: .known(length)) {
            ByteChunks {
                var iterator = body.chunks().makeAsyncIterator()
                var position: Int64 = 0
                return {
                    while position < offset + length, var chunk = try await iterator.next() {
                        let start = position, end = position + Int64(chunk.readableBytes)
                        position = end
                        guard end > offset else { continue }
                        let from = Int(max(0, offset - start)), to = Int(min(Int64(chunk.readableBytes), offset + length - start))
                        return chunk.getSlice(at: chunk.readerIndex + from, length: to - from)
                            ?? chunk.readSlice(length: 0)!
                    }
                    return nil
                }
            }
        }
    }

    /// Checks `Docker-Content-Digest` when the registry sent a parsable one.
    func verify(_ response: CollectedResponse, expected: Digest, operation: String) throws(RegistryError) {
        guard let header = response[.dockerContentDigest],
              let answered = try? Digest(parsing: header.trimmingASCIISpaces()) else { return }
        if answered != expected {
            throw .digestMismatch(operation: operation, expected: expected, actual: answered)
        }
    }
}
