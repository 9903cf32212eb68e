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
    public let progress = JobProgress()

    public init(repository: RepositoryName, tags: [Tag]) {
        self.repository = repository
        self.tags = tags
    }
}

/// Blobs known to be in the repository and tags already settled, shared by a job's attempts.
public final class JobProgress: Sendable {
    private struct State {
        var blobs: Set<Digest> = []
        var outcomes: [String: TagOutcome] = [:]
        /// Manifest PUTs sent whose answer was lost, with what the tag held before.
        var manifestsSent: [String: Digest?] = [:]
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

    /// Settled tags, in the order of `tags`.
    public func outcomes(in tags: [Tag]) -> [TagOutcome] {
        state.withLock { state in tags.compactMap { state.outcomes[$0.value] } }
    }

    /// How much of the job is done (blobs in place, tags settled): grows when an attempt advances it.
    public var advancement: Int { state.withLock { $0.blobs.count + $0.outcomes.count } }
}
