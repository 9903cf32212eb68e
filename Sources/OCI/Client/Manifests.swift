import HTTPTransport
import HTTPTypes

/// Manifest HEAD, GET and PUT.
///
/// See https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests and
/// #pushing-manifests . `reference` is a tag or a digest.
extension RegistryClient {
    /// HEAD manifest; nil on 404 (MANIFEST_UNKNOWN/NAME_UNKNOWN). Digest from Docker-Content-Digest (GET + hash if header missing).
    public func manifestDescriptor(repository: RepositoryName, reference: String) async throws(RegistryError) -> ManifestDescriptor? {
        let operation = "HEAD manifest \(Self.display(repository, reference: reference))"
        let response = try await send(manifestCall(.head, repository, reference, operation))
        switch response.status {
        case 200..<300: break
        case 404: return nil
        case 403:
            // A HEAD answer has no body, so a bare 403 cannot say whether it is a denial or a (ghcr.io)
            // secondary rate limit: ask again with GET, whose error body tells, and whose success answers.
            guard let fetched = try await manifest(repository: repository, reference: reference) else { return nil }
            return ManifestDescriptor(digest: fetched.digest, mediaType: fetched.mediaType, size: fetched.bytes.count)
        default: throw failure(operation, response)
        }
        let mediaType = MediaType.essence(response[.contentType])
        let size = response[.contentLength].flatMap { Int($0.trimmingASCIISpaces()) }
        if let header = response[.dockerContentDigest],
           let digest = try? Digest(parsing: header.trimmingASCIISpaces()) {
            return ManifestDescriptor(digest: digest, mediaType: mediaType, size: size, pullBudget: PullBudget(response))
        }
        guard let fetched = try await manifest(repository: repository, reference: reference) else { return nil }
        return ManifestDescriptor(digest: fetched.digest, mediaType: fetched.mediaType ?? mediaType, size: fetched.bytes.count)
    }

    /// GET manifest: its bytes, `Content-Type` and sha256 digest; nil on 404.
    public func manifest(repository: RepositoryName, reference: String) async throws(RegistryError)
        -> (bytes: [UInt8], mediaType: String?, digest: Digest)? {
        let operation = "GET manifest \(Self.display(repository, reference: reference))"
        let response = try await send(manifestCall(.get, repository, reference, operation))
        switch response.status {
        case 200..<300: break
        case 404: return nil
        default: throw failure(operation, response)
        }
        let digest = Digest.sha256(response.body)
        if let requested = try? Digest(parsing: reference), requested.algorithm == "sha256", requested != digest {
            throw .digestMismatch(operation: operation, expected: requested, actual: digest)
        }
        if let header = response[.dockerContentDigest],
           let answered = try? Digest(parsing: header.trimmingASCIISpaces()),
           answered.algorithm == "sha256", answered != digest {
            throw .digestMismatch(operation: operation, expected: answered, actual: digest)
        }
        return (response.body, MediaType.essence(response[.contentType]), digest)
    }

    /// PUT manifest with Content-Type = mediaType; verifies Docker-Content-Digest when present; returns the digest.
    public func putManifest(repository: RepositoryName, reference: String, bytes: [UInt8],
                            mediaType: String) async throws(RegistryError) -> Digest {
        let operation = "PUT manifest \(Self.display(repository, reference: reference))"
        let digest = Digest.sha256(bytes)
        let call = Call(method: .put, url: url(repository, "manifests/\(Self.pathSegment(reference))"),
                        headers: [.contentType: mediaType, .contentLength: String(bytes.count)],
                        body: .bytes(bytes), operation: operation, scopes: .repository(repository, push: true))
        let response = try await send(call)
        guard (200..<300).contains(response.status) else { throw failure(operation, response) }
        try verify(response, expected: digest, operation: operation)
        return digest
    }

    private func manifestCall(_ method: HTTPRequest.Method, _ repository: RepositoryName, _ reference: String,
                              _ operation: String) -> Call {
        Call(method: method, url: url(repository, "manifests/\(Self.pathSegment(reference))"),
             headers: [.accept: MediaType.manifestAcceptHeader],
             operation: operation, scopes: .repository(repository, push: false))
    }
}
