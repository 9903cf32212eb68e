import HTTPTransport
import ImageSources
import JobRunner
import OCI
import Timekeeping

/// Pushes an image or index to a repository's tags with the fewest requests the protocol allows.
///
/// Per job: one tags list (or one HEAD for a single tag) to learn what the tags hold; for each blob, a mount when
/// some repository of the run (or the audit log) holds it, else one upload per registry (``BlobCoordinator``),
/// a few blobs at a time; an index's children by digest; then one manifest PUT per tag. What a tag may become is the
/// job's ``TagPolicy``. Progress is kept in the job across attempts, so a retry resumes where the last one stopped.
public struct ImagePusher: Sendable {
    let client: RegistryClient
    let force: Bool
    let blobs: BlobCoordinator
    let mode: UploadMode
    let time: any TimeSource
    /// Told about blob bytes as they are sent (for progress).
    let onBytes: @Sendable (Int64) -> Void

    /// Blobs of one job pushed at the same time (when one of them is larger than ``smallBlob``, or there are more
    /// than two).
    static let blobConcurrency = 3
    /// Blobs at most this large go in one PUT whatever the mode (two requests instead of three).
    static let smallBlob: Int64 = 1 << 20

    public init(client: RegistryClient, force: Bool, blobs: BlobCoordinator,
                mode: UploadMode = .streamed, time: any TimeSource = SystemTime(),
                onBytes: @escaping @Sendable (Int64) -> Void = { _ in }) {
        self.client = client
        self.force = force
        self.blobs = blobs
        self.mode = mode
        self.time = time
        self.onBytes = onBytes
    }

    /// Pushes what is missing.
    public func push(_ job: ImageJob) async throws -> [TagOutcome] {
        let digest = job.digest
        // A registry source is fetched only when a tag needs it; its mount sources are then asked for on the way.
        let sources = if let loaded = job.image.loaded { await mountSources(for: job.repository, artifact: loaded.artifact) }
            else { [RepositoryName]() }
        try await client.authorize(repository: job.repository, push: true, mountSources: sources)
        let pending = job.tags.filter { job.progress.outcome(for: $0) == nil }
        var toPush: [(tag: Tag, before: Digest?, action: TagAction)] = []
        var repositoryExists = true
        if !pending.isEmpty {
            let current = try await currentDigests(job.repository, tags: pending)
            repositoryExists = current.repositoryExists
            for tag in pending {
                let held = current.digests[tag.value] ?? nil
                if held == digest, let before = job.progress.manifestSent(tag) {
                    // An earlier attempt's PUT landed but its answer was lost (reset, timeout).
                    job.progress.record(TagOutcome(tag: tag, action: Self.action(before: before, policy: job.policy(for: tag)),
                                                   before: before, after: held))
                    continue
                }
                switch try decide(held, tag: tag, policy: job.policy(for: tag), digest: digest) {
                case .push(let before, let action): toPush.append((tag, before, action))
                case .settled(let action, let held):
                    job.progress.record(TagOutcome(tag: tag, action: action, before: held, after: held))
                }
            }
        }
        guard !toPush.isEmpty else { return job.progress.outcomes(in: job.tags) }
        let resolved = try await job.image.resolve()
        let artifact = resolved.artifact
        try await pushTree(artifact, job, checkExists: repositoryExists)
        for (tag, before, action) in toPush {
            job.progress.sendingManifest(tag, before: job.progress.manifestSent(tag) ?? before)
            let pushed = try await client.putManifest(repository: job.repository, reference: tag.value,
                                                      bytes: artifact.manifest, mediaType: artifact.manifestMediaType)
            job.progress.record(TagOutcome(tag: tag, action: action, before: before, after: pushed))
        }
        await blobs.holds(manifest: artifact.manifestDigest, in: job.repository)
        job.progress.pushedManifest(PushedManifest(digest: artifact.manifestDigest, mediaType: artifact.manifestMediaType,
                                                   platform: nil, tags: toPush.map(\.tag.value),
                                                   size: artifact.manifest.count))
        if job.copyReferrers {
            for referrer in resolved.referrers where !job.progress.hasReferrer(referrer.artifact.manifestDigest) {
                try await pushReferrer(referrer, job)
            }
        }
        return job.progress.outcomes(in: job.tags)
    }

    /// The blobs and child manifests of `artifact` (not its root), unless this run put it into the repository already.
    private func pushTree(_ artifact: ImageArtifact, _ job: ImageJob, checkExists: Bool) async throws {
        guard await !blobs.hasManifest(artifact.manifestDigest, in: job.repository) else { return }
        try await pushBlobs(job, artifact.blobs, checkExists: checkExists)
        for manifest in artifact.manifestsInPushOrder.dropLast() where !job.progress.hasChild(manifest.digest) {
            _ = try await client.putManifest(repository: job.repository, reference: manifest.digest.description,
                                             bytes: manifest.bytes, mediaType: manifest.mediaType)
            job.progress.addChild(manifest.digest)
            job.progress.pushedManifest(PushedManifest(digest: manifest.digest, mediaType: manifest.mediaType,
                                                       platform: manifest.platform?.description, tags: [],
                                                       size: manifest.bytes.count))
        }
    }

    /// A signature, attestation or referrer of the image: put under its tag (or by digest) unless already there.
    private func pushReferrer(_ referrer: Referrer, _ job: ImageJob) async throws {
        let artifact = referrer.artifact
        let reference = referrer.tag?.value ?? artifact.manifestDigest.description
        let held = try await client.manifestDescriptor(repository: job.repository, reference: reference)?.digest
        if held != artifact.manifestDigest {
            try await pushTree(artifact, job, checkExists: true)
            _ = try await client.putManifest(repository: job.repository, reference: reference, bytes: artifact.manifest,
                                             mediaType: artifact.manifestMediaType)
            job.progress.pushedManifest(PushedManifest(digest: artifact.manifestDigest, mediaType: artifact.manifestMediaType,
                                                       platform: nil, tags: referrer.tag.map { [$0.value] } ?? [],
                                                       size: artifact.manifest.count, referrer: referrer.kind.rawValue))
        }
        job.progress.addReferrer(artifact.manifestDigest)
    }

    /// What a push would do, without writing anything.
    public func plan(_ job: ImageJob) async throws -> [TagOutcome] {
        let expected = job.digest
        let current = try await currentDigests(job.repository, tags: job.tags)
        return job.tags.map { tag in
            let digest = current.digests[tag.value] ?? nil
            switch (try? decide(digest, tag: tag, policy: job.policy(for: tag), digest: expected))
                ?? .settled(.kept, digest ?? expected) {
            case .push: return TagOutcome(tag: tag, action: .planned, before: digest, after: expected)
            case .settled(let action, _): return TagOutcome(tag: tag, action: action, before: digest, after: digest)
            }
        }
    }

    private enum Decision {
        case push(before: Digest?, action: TagAction)
        case settled(TagAction, Digest)
    }

    private func decide(_ current: Digest?, tag: Tag, policy: TagPolicy, digest: Digest) throws -> Decision {
        guard let current else { return .push(before: nil, action: .pushed) }
        if current == digest { return .settled(.skipped, current) }
        if force { return .push(before: current, action: .overwritten) }
        switch policy {
        case .placeholder: return .settled(.kept, current)
        case .mutable: return .push(before: current, action: .moved)
        case .immutable:
            throw JobFailure(failureClass: .conflict, message: "tag \(tag) already holds \(current.short), not "
                             + "\(digest.short): release tags are immutable; publish a new version, "
                             + "or pass --force to overwrite it")
        }
    }

    static func action(before: Digest?, policy: TagPolicy) -> TagAction {
        guard before != nil else { return .pushed }
        return policy == .mutable ? .moved : .overwritten
    }

    /// The repositories this job may mount from (for the one token request that covers them).
    private func mountSources(for repository: RepositoryName, artifact: ImageArtifact) async -> [RepositoryName] {
        // The one source each blob will be mounted from (the first holder, as `plan` picks it), not every holder:
        // a token's scope names each of them, and by the end of a large run a blob has hundreds.
        var sources: [RepositoryName] = []
        for blob in artifact.blobs {
            if let source = await blobs.source(of: blob.digest, excluding: repository), !sources.contains(source) {
                sources.append(source)
            }
        }
        return sources
    }

    /// Every blob of `all` the job still needs, a few at a time.
    private func pushBlobs(_ job: ImageJob, _ all: [ImageBlob], checkExists: Bool) async throws {
        let needed = all.filter { !job.progress.hasBlob($0.digest) }
        // A placeholder's two small blobs go one after the other: parallel requests save little there, and one
        // fault then fails exactly one attempt. More small blobs (a multi-platform index) go a few at a time: their
        // mounts are round trips that would otherwise queue one behind the other.
        let concurrency = needed.contains { $0.size > Self.smallBlob } || needed.count > 2 ? Self.blobConcurrency : 1
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for blob in needed {
                if running >= concurrency {
                    try await group.next()
                    running -= 1
                }
                running += 1
                group.addTask { try await self.pushBlob(blob, job, checkExists: checkExists) }
            }
            try await group.waitForAll()
        }
    }

    private func pushBlob(_ blob: ImageBlob, _ job: ImageJob, checkExists: Bool) async throws {
        let plan = await blobs.plan(blob.digest, for: job.repository)
        if plan == .present {
            job.progress.addBlob(blob.digest)
            return
        }
        let meter = RequestMeter(parent: RequestMeter.current)
        let started = time.monotonic
        let onBytes = self.onBytes
        let body = blob.content.body().observing { onBytes(Int64($0.readableBytes)) }
        let content = blob.content
        let range: @Sendable (Int64, Int64) -> HTTPBody = { offset, length in
            content.body(offset: offset, length: length).observing { onBytes(Int64($0.readableBytes)) }
        }
        let mode = blob.size <= Self.smallBlob ? UploadMode.monolithic : self.mode
        let result: BlobPushResult
        do {
            result = try await RequestMeter.$current.withValue(meter) {
                switch plan {
                case .present:
                    return .alreadyPresent
                case .mount(let source):
                    return try await client.pushBlob(repository: job.repository, digest: blob.digest, size: blob.size,
                                                     content: body, mountFrom: source, checkExists: false, mode: mode,
                                                     range: range)
                case .transfer(let source):
                    return try await client.pushBlob(repository: job.repository, digest: blob.digest, size: blob.size,
                                                     content: body, mountFrom: source,
                                                     checkExists: source == nil && checkExists, mode: mode,
                                                     range: range)
                }
            }
        } catch {
            if case .transfer = plan { await blobs.finished(blob.digest, in: job.repository, success: false) }
            // A body streamed from a source registry that broke: the source's answer says why.
            if case .remote(let source, let digest, _) = blob.content, let cause = source.meter.takeFailure(of: digest) {
                throw cause
            }
            throw error
        }
        if case .transfer = plan {
            await blobs.finished(blob.digest, in: job.repository, success: true)
        } else {
            await blobs.holds(blob.digest, in: job.repository)
        }
        job.progress.addBlob(blob.digest)
        let kind: BlobAction.Kind = switch result {
        case .alreadyPresent: .present
        case .mounted: .mounted
        case .uploaded: .uploaded
        }
        job.progress.blob(BlobAction(digest: blob.digest, size: blob.size, mediaType: blob.mediaType, kind: kind,
                                     bytesSent: meter.bytesSent, durationMs: (time.monotonic - started).milliseconds))
    }

    /// The digest each tag holds now (nil: absent). With several tags one tags-list request answers for all of
    /// them, and only tags that exist need a HEAD.
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
