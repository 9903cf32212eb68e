import ImageSources
import OCI

/// Pushes one image to a repository's tags with the fewest requests the protocol allows.
///
/// Per job: one tags list (or one HEAD for a single tag) to learn what the tags hold; for each
/// blob, a cross-repository mount when a source is known, else an upload; one manifest PUT per
/// tag. A tag that already holds the image is skipped; a tag that holds another image is kept
/// unless `force` is set.
public struct ImagePusher: Sendable {
    let client: RegistryClient
    let image: Image
    let force: Bool
    let sources: MountSources

    public init(client: RegistryClient, image: Image, force: Bool, sources: MountSources) {
        self.client = client
        self.image = image
        self.force = force
        self.sources = sources
    }

    /// Pushes what is missing; progress is kept in `job.progress` so a retry resumes.
    public func push(_ job: ImageJob) async throws -> [TagOutcome] {
        let source = await sources.source(for: job.repository)
        try await client.authorize(repository: job.repository, push: true, mountSources: source.map { [$0] } ?? [])
        let pending = job.tags.filter { job.progress.outcome(for: $0) == nil }
        var toPush: [(tag: Tag, before: Digest?)] = []
        var repositoryExists = true
        if !pending.isEmpty {
            let current = try await currentDigests(job.repository, tags: pending)
            repositoryExists = current.repositoryExists
            for tag in pending {
                let digest = current.digests[tag.value] ?? nil
                if digest == image.manifestDigest, let before = job.progress.manifestSent(tag) {
                    // An earlier attempt's PUT landed but its answer was lost (reset, timeout).
                    job.progress.record(TagOutcome(tag: tag, action: before == nil ? .pushed : .overwritten,
                                                   before: before, after: digest))
                    continue
                }
                switch decide(digest) {
                case .push(let before): toPush.append((tag, before))
                case .settled(let action, let digest):
                    job.progress.record(TagOutcome(tag: tag, action: action, before: digest, after: digest))
                }
            }
        }
        if !toPush.isEmpty {
            for blob in image.blobs where !job.progress.hasBlob(blob.digest) {
                _ = try await client.pushBlob(repository: job.repository, digest: blob.digest, size: blob.size,
                                              content: blob.content.body(), mountFrom: source,
                                              checkExists: source == nil && repositoryExists)
                job.progress.addBlob(blob.digest)
            }
            for (tag, before) in toPush {
                job.progress.sendingManifest(tag, before: job.progress.manifestSent(tag) ?? before)
                let digest = try await client.putManifest(repository: job.repository, reference: tag.value,
                                                          bytes: image.manifest, mediaType: image.manifestMediaType)
                job.progress.record(TagOutcome(tag: tag, action: before == nil ? .pushed : .overwritten,
                                               before: before, after: digest))
            }
        }
        let outcomes = job.progress.outcomes(in: job.tags)
        if outcomes.contains(where: { $0.after == image.manifestDigest }) {
            await sources.add(job.repository)
        }
        return outcomes
    }

    /// What a push would do, without writing anything.
    public func plan(_ job: ImageJob) async throws -> [TagOutcome] {
        let current = try await currentDigests(job.repository, tags: job.tags)
        return job.tags.map { tag in
            let digest = current.digests[tag.value] ?? nil
            switch decide(digest) {
            case .push: return TagOutcome(tag: tag, action: .planned, before: digest, after: image.manifestDigest)
            case .settled(let action, _): return TagOutcome(tag: tag, action: action, before: digest, after: digest)
            }
        }
    }

    private enum Decision {
        case push(before: Digest?)
        case settled(TagAction, Digest)
    }

    private func decide(_ current: Digest?) -> Decision {
        guard let current else { return .push(before: nil) }
        if current == image.manifestDigest { return .settled(.skipped, current) }
        return force ? .push(before: current) : .settled(.kept, current)
    }

    /// The digest each tag holds now (nil: absent). With several tags one tags-list request
    /// answers for all of them, and only tags that exist need a HEAD.
    func currentDigests(_ repository: RepositoryName, tags: [Tag]) async throws
        -> (digests: [String: Digest?], repositoryExists: Bool) {
        var existing = tags
        if tags.count > 1 {
            guard let listed = try await client.tags(repository: repository) else {
                return ([:], false)
            }
            let names = Set(listed)
            existing = tags.filter { names.contains($0.value) }
        }
        var digests: [String: Digest?] = [:]
        for tag in existing {
            digests[tag.value] = try await client.manifestDescriptor(repository: repository, reference: tag.value)?.digest
        }
        return (digests, true)
    }
}
