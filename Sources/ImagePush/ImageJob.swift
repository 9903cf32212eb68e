import ImageSources
import OCI
import Synchronization

/// What a push or a check did to one tag, as the audit log records it (`tag_results.action`, now
/// `item_results.action`). The raw values are a stable contract.
public enum TagAction: String, Sendable, Codable, CaseIterable {
    /// The tag did not exist; the image was pushed.
    case pushed
    /// The tag already held the image.
    case skipped
    /// The tag holds another image and was left untouched.
    case kept
    /// The tag held another image and was overwritten (`--force`).
    case overwritten
    /// A check found the tag holding the expected image.
    case verified
    /// A check found no such tag.
    case missing
    /// A check found the tag holding another image.
    case different
    /// A dry run would push it.
    case planned
    /// A mutable tag (`latest`) that held another image now holds this one.
    case moved
}

/// What a tag may be changed into.
public enum TagPolicy: Sendable, Equatable {
    /// A placeholder tag: another image on it is left alone (recorded as `kept`, the job not failed).
    case placeholder
    /// A release version: another image on it is a `conflict` that fails the job (versions are immutable).
    case immutable
    /// A moving tag such as `latest`: another image on it is replaced, and the digest before is recorded.
    case mutable
}

/// What one attempt did with one blob.
public struct BlobAction: Sendable, Equatable {
    public enum Kind: String, Sendable { case uploaded, mounted, present }

    public let digest: Digest
    public let size: Int64
    public let mediaType: String
    public let kind: Kind
    /// Body bytes this blob's requests sent.
    public let bytesSent: Int64
    public let durationMs: Int
}

/// A manifest a job put into its repository.
public struct PushedManifest: Sendable, Equatable {
    public let digest: Digest
    public let mediaType: String
    public let platform: String?
    /// The tags it was put under (empty: by digest, as an index's child or an OCI referrer).
    public let tags: [String]
    public let size: Int
    /// What kind of referrer of the image it is (signature, attestation, sbom, referrer, referrers-index); nil: part
    /// of the image.
    public var referrer: String? = nil
}

/// What happened to one tag of a job.
public struct TagOutcome: Sendable, Equatable {
    public let tag: Tag
    public let action: TagAction
    /// What the tag held before (nil: it did not exist).
    public let before: Digest?
    /// What the tag holds after.
    public let after: Digest?

    public init(tag: Tag, action: TagAction, before: Digest?, after: Digest?) {
        self.tag = tag
        self.action = action
        self.before = before
        self.after = after
    }
}

/// One repository and its tags: the unit an image push or check works on. Progress is kept across the
/// runner's attempts, so a retry continues where the last attempt stopped.
public struct ImageJob: Sendable {
    public let repository: RepositoryName
    public let tags: [Tag]
    /// What the tags should hold: read before the run, or fetched from a source registry when first needed.
    public let image: SourceImage
    /// What a tag may become; tags in `mutableTags` are `.mutable` whatever this says.
    public let policy: TagPolicy
    public let mutableTags: Set<String>
    /// Copy what refers to the image in its source (signatures, attestations, OCI referrers) with it.
    public let copyReferrers: Bool
    public let progress = JobProgress()

    public init(repository: RepositoryName, tags: [Tag], image: SourceImage, policy: TagPolicy = .placeholder,
                mutableTags: Set<String> = [], copyReferrers: Bool = true) {
        self.repository = repository
        self.tags = tags
        self.image = image
        self.policy = policy
        self.mutableTags = mutableTags
        self.copyReferrers = copyReferrers
    }

    public init(repository: RepositoryName, tags: [Tag], artifact: ImageArtifact, policy: TagPolicy = .placeholder,
                mutableTags: Set<String> = []) {
        self.init(repository: repository, tags: tags, image: SourceImage(artifact), policy: policy,
                  mutableTags: mutableTags)
    }

    /// The root manifest's digest.
    public var digest: Digest { image.digest }

    public func policy(for tag: Tag) -> TagPolicy { mutableTags.contains(tag.value) ? .mutable : policy }
}

/// Blobs known to be in the repository and tags already settled, shared by a job's attempts.
public final class JobProgress: Sendable {
    private struct State {
        var blobs: Set<Digest> = []
        var outcomes: [String: TagOutcome] = [:]
        /// Manifest PUTs sent whose answer was lost, with what the tag held before.
        var manifestsSent: [String: Digest?] = [:]
        /// Child manifests already in the repository (pushed by digest).
        var children: Set<Digest> = []
        var pushed: [PushedManifest] = []
        /// Blob actions of the attempt in progress.
        var blobActions: [BlobAction] = []
        /// Referrers (by root digest) settled in the repository.
        var referrers: Set<Digest> = []
    }

    private let state = Mutex(State())

    public init() {}

    func hasBlob(_ digest: Digest) -> Bool { state.withLock { $0.blobs.contains(digest) } }
    func addBlob(_ digest: Digest) { state.withLock { _ = $0.blobs.insert(digest) } }
    func outcome(for tag: Tag) -> TagOutcome? { state.withLock { $0.outcomes[tag.value] } }
    func record(_ outcome: TagOutcome) { state.withLock { $0.outcomes[outcome.tag.value] = outcome } }

    /// Notes that a manifest PUT for `tag` is being sent (the tag held `before`), so that if its answer is
    /// lost, the next attempt credits the push to this job instead of calling the tag skipped.
    func sendingManifest(_ tag: Tag, before: Digest?) { state.withLock { $0.manifestsSent[tag.value] = before } }

    /// What `tag` held before a manifest PUT this job sent, if it sent one: `.some(nil)` means absent.
    func manifestSent(_ tag: Tag) -> Digest?? { state.withLock { $0.manifestsSent[tag.value] } }

    func hasChild(_ digest: Digest) -> Bool { state.withLock { $0.children.contains(digest) } }
    func addChild(_ digest: Digest) { state.withLock { _ = $0.children.insert(digest) } }
    func pushedManifest(_ manifest: PushedManifest) { state.withLock { $0.pushed.append(manifest) } }
    func blob(_ action: BlobAction) { state.withLock { $0.blobActions.append(action) } }
    func hasReferrer(_ digest: Digest) -> Bool { state.withLock { $0.referrers.contains(digest) } }
    func addReferrer(_ digest: Digest) { state.withLock { _ = $0.referrers.insert(digest) } }

    /// The blob actions recorded since the last call (one attempt's).
    public func takeBlobActions() -> [BlobAction] {
        state.withLock { state in defer { state.blobActions = [] }; return state.blobActions }
    }

    /// Every manifest the job put, children first.
    public var pushedManifests: [PushedManifest] { state.withLock { $0.pushed } }

    /// Settled tags, in the order of `tags`.
    public func outcomes(in tags: [Tag]) -> [TagOutcome] {
        state.withLock { state in tags.compactMap { state.outcomes[$0.value] } }
    }

    /// How much of the job is done (blobs in place, tags settled): grows when an attempt advances it.
    public var advancement: Int { state.withLock { $0.blobs.count + $0.outcomes.count + $0.referrers.count } }
}
