import OCI

/// Something attached to an image in its source repository, copied with it: a cosign signature, attestation or
/// SBOM under its `sha256-<hex>.sig|.att|.sbom` tag, an OCI 1.1 referrer (a manifest whose `subject` is the
/// image), or the `sha256-<hex>` tag index that stands for the referrers API where a registry has none.
///
/// See https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-referrers and
/// https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md (the tag scheme).
public struct Referrer: Sendable, Equatable {
    public enum Kind: String, Sendable { case signature, attestation, sbom, referrer, referrersIndex = "referrers-index" }

    public let kind: Kind
    public let artifact: ImageArtifact
    /// The tag it is put under; nil: by digest (an OCI referrer).
    public let tag: Tag?
}

/// An image as a source registry holds it, with what refers to it.
public struct ResolvedImage: Sendable, Equatable {
    public let artifact: ImageArtifact
    public let referrers: [Referrer]

    public init(artifact: ImageArtifact, referrers: [Referrer] = []) {
        self.artifact = artifact
        self.referrers = referrers
    }
}

/// Reads an image from a source registry: the manifest tree (indexes, their children, nested indexes) into memory,
/// the blobs as ``BlobContent/remote(_:digest:size:)`` to be streamed when they are uploaded.
public struct RegistryImageReader: Sendable {
    public let client: RegistryClient
    public let meter: SourceMeter

    public init(client: RegistryClient, meter: SourceMeter) {
        self.client = client
        self.meter = meter
    }

    /// The digest a reference names now, from a manifest HEAD (Docker Hub does not count it as a pull), with the
    /// pull budget the answer announced. Nil when there is no such manifest.
    public func head(_ reference: ImageReference) async throws(RegistryError) -> ManifestDescriptor? {
        // Even a digest reference gets its HEAD: it tells whether the manifest exists and what budget is left.
        return try await client.manifestDescriptor(repository: reference.repository, reference: reference.reference)
    }

    /// The artifact `reference` names (`digest` pins it: the tag may have moved since the HEAD).
    public func load(_ reference: ImageReference, digest: Digest? = nil) async throws -> ImageArtifact {
        try await load(reference.repository, reference: digest?.description ?? reference.reference,
                       shown: reference.description, expectedType: nil)
    }

    /// The artifact a tag or digest of `repository` holds.
    public func load(repository: RepositoryName, reference: String) async throws -> ImageArtifact {
        try await load(repository, reference: reference, shown: "\(repository):\(reference)", expectedType: nil)
    }

    func load(_ repository: RepositoryName, reference: String, shown: String, expectedType: String?) async throws
        -> ImageArtifact {
        meter.manifestRequest()
        guard let fetched = try await client.manifest(repository: repository, reference: reference) else {
            throw ImageSourceError(shown, "does not exist (manifest unknown)")
        }
        let document = try ManifestDocument(bytes: fetched.bytes, expectedType: fetched.mediaType ?? expectedType,
                                            source: shown)
        let source = RemoteBlobSource(client: client, repository: repository, meter: meter)
        switch document.kind {
        case let .image(config, layers):
            func blob(_ descriptor: Descriptor) -> ImageBlob {
                ImageBlob(mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size,
                          content: .remote(source, digest: descriptor.digest, size: descriptor.size))
            }
            return .image(Image(manifest: fetched.bytes, manifestMediaType: document.mediaType, config: blob(config),
                                layers: layers.map(blob)))
        case let .index(descriptors):
            var entries: [ImageIndex.Entry] = []
            for descriptor in descriptors {
                guard MediaType.manifestAccept.contains(descriptor.mediaType) else {
                    throw ImageSourceError(shown, "lists \(descriptor.digest.short) of media type \(descriptor.mediaType), "
                                           + "which is neither a manifest nor an index")
                }
                let child = try await load(repository, reference: descriptor.digest.description,
                                           shown: "\(repository)@\(descriptor.digest.short)",
                                           expectedType: descriptor.mediaType)
                entries.append(ImageIndex.Entry(platform: descriptor.platform, annotations: descriptor.annotations,
                                                child: child))
            }
            return .index(ImageIndex(manifest: fetched.bytes, manifestMediaType: document.mediaType, entries: entries))
        }
    }

    /// What refers to `subject` in `repository`: cosign's tags, then the referrers API, else its fallback tag.
    /// `tags` is the repository's tag list (one request for every image of the repository).
    public func referrers(of subject: Digest, in repository: RepositoryName, tags: Set<String>) async throws
        -> [Referrer] {
        let prefix = "\(subject.algorithm)-\(subject.encoded)"
        var found: [Referrer] = []
        for (suffix, kind) in [("sig", Referrer.Kind.signature), ("att", .attestation), ("sbom", .sbom)]
        where tags.contains("\(prefix).\(suffix)") {
            let tag = try Tag(validating: "\(prefix).\(suffix)")
            found.append(Referrer(kind: kind, artifact: try await load(repository, reference: tag.value,
                                                                        shown: "\(repository):\(tag.value)",
                                                                        expectedType: nil), tag: tag))
        }
        if let listing = try await client.referrers(repository: repository, digest: subject) {
            let document = try ManifestDocument(bytes: listing, expectedType: MediaType.ociIndex,
                                                source: "referrers of \(repository)@\(subject.short)")
            guard case let .index(descriptors) = document.kind else { return found }
            for descriptor in descriptors {
                let artifact = try await load(repository, reference: descriptor.digest.description,
                                              shown: "\(repository)@\(descriptor.digest.short)",
                                              expectedType: descriptor.mediaType)
                found.append(Referrer(kind: .referrer, artifact: artifact, tag: nil))
            }
        } else if tags.contains(prefix) {
            // No referrers API: the tag schema's index lists them; copied whole, its digest kept.
            let tag = try Tag(validating: prefix)
            found.append(Referrer(kind: .referrersIndex, artifact: try await load(repository, reference: prefix,
                                                                                  shown: "\(repository):\(prefix)",
                                                                                  expectedType: MediaType.ociIndex),
                                  tag: tag))
        }
        return found
    }
}
