import ImageSources
import JobRunner
import OCI

/// Read-only check of a job's tags: present, and the placeholder or another image; with a pull depth, also that the
/// credentials can pull what each tag holds (a partner's read-only token proving it can pull a whole release).
public struct ImageVerifier: Sendable {
    /// How much of each tag's image is pulled.
    public enum Depth: String, Sendable, Codable {
        /// Only a HEAD per tag.
        case tags
        /// Every manifest (an index's children too) and every config blob.
        case manifests
        /// Also every layer: each downloaded, checked against its digest and discarded.
        case blobs
    }

    let client: RegistryClient
    let depth: Depth
    let meter: SourceMeter

    public init(client: RegistryClient, depth: Depth = .tags, meter: SourceMeter = SourceMeter()) {
        self.client = client
        self.depth = depth
        self.meter = meter
    }

    /// Records one outcome per tag; throws `not_found` when a tag is missing.
    public func verify(_ job: ImageJob) async throws -> [TagOutcome] {
        try await client.authorize(repository: job.repository, push: false, mountSources: [])
        for tag in job.tags where job.progress.outcome(for: tag) == nil {
            let digest = try await client.manifestDescriptor(repository: job.repository, reference: tag.value)?.digest
            let action: TagAction = switch digest {
            case nil: .missing
            case job.digest?: .verified
            default: .different
            }
            if depth != .tags, digest != nil { try await pull(job.repository, tag: tag) }
            job.progress.record(TagOutcome(tag: tag, action: action, before: digest, after: digest))
        }
        let outcomes = job.progress.outcomes(in: job.tags)
        let missing = outcomes.filter { $0.action == .missing }.map(\.tag.value)
        if !missing.isEmpty {
            throw JobFailure(failureClass: .notFound, message: "missing tags: \(missing.joined(separator: ", "))",
                            httpStatus: 404)
        }
        return outcomes
    }

    /// GETs what `tag` holds down to the depth asked for; each blob streamed, checked and dropped.
    private func pull(_ repository: RepositoryName, tag: Tag) async throws {
        let artifact = try await RegistryImageReader(client: client, meter: meter).load(repository: repository,
                                                                                      reference: tag.value)
        let configs = Set(Self.images(artifact).map(\.config.digest))
        for blob in artifact.blobs where depth == .blobs || configs.contains(blob.digest) {
            guard case .remote(let source, let digest, let size) = blob.content else { continue }
            for try await _ in source.chunks(digest: digest, size: size) {}
        }
    }

    static func images(_ artifact: ImageArtifact) -> [Image] {
        switch artifact {
        case .image(let image): [image]
        case .index(let index): index.entries.flatMap { images($0.child) }
        }
    }
}
