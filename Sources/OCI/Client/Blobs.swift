import HTTPTransport
import HTTPTypes

/// Blob existence checks, cross-repository mounts and monolithic uploads.
///
/// See https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-blobs (POST then PUT),
/// #mounting-a-blob-from-another-repository and #checking-if-content-exists-in-the-registry .
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

    /// Ensures the blob is in `repository`: mount from `mountFrom` when given (201 = done, 202 = continue that upload with
    /// the content), else POST + PUT monolithic upload. `checkExists` first does a HEAD.
    public func pushBlob(repository: RepositoryName, digest: Digest, size: Int64, content: HTTPBody,
                         mountFrom: RepositoryName?, checkExists: Bool) async throws(RegistryError) -> BlobPushResult {
        if checkExists, try await blobExists(repository: repository, digest: digest) { return .alreadyPresent }
        let push = ScopeSet.repository(repository, push: true)
        let uploads = url(repository, "blobs/uploads/")
        let location: String
        let sessionURL: String

        if let source = mountFrom, source != repository {
            let operation = "POST blob mount \(repository.value) \(digest.short) from \(source.value)"
            let mountURL = uploads + "?mount=\(digest)&from=\(source.value)"
            let response = try await send(Call(method: .post, url: mountURL, headers: [.contentLength: "0"],
                                               operation: operation,
                                               scopes: push.union(.repository(source, push: false))))
            switch response.status {
            case 201:
                try verify(response, expected: digest, operation: operation)
                return .mounted
            case 202:
                guard let value = response[.location] else { throw invalid(operation, "202 without a location header") }
                location = value
                sessionURL = mountURL
            default:
                throw failure(operation, response)
            }
        } else {
            let operation = "POST blob upload \(repository.value) \(digest.short)"
            let response = try await send(Call(method: .post, url: uploads, headers: [.contentLength: "0"],
                                               operation: operation, scopes: push))
            guard response.status == 202 else {
                if (200..<300).contains(response.status) { throw invalid(operation, "expected 202, got \(response.status)") }
                throw failure(operation, response)
            }
            guard let value = response[.location] else { throw invalid(operation, "202 without a location header") }
            location = value
            sessionURL = uploads
        }

        let operation = "PUT blob \(repository.value) \(digest.short)"
        guard let target = URLParts.resolve(location, against: sessionURL) else {
            throw invalid(operation, "unusable upload location")
        }
        let response = try await send(Call(
            method: .put, url: URLParts.appendingQuery(target, "digest", digest.description),
            headers: [.contentType: "application/octet-stream", .contentLength: String(size)],
            body: content, operation: operation, scopes: push))
        guard (200..<300).contains(response.status) else { throw failure(operation, response) }
        try verify(response, expected: digest, operation: operation)
        return .uploaded
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
