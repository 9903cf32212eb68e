import AuditStore
import OCIRegistry
import Synchronization

/// What happened to one tag of a job.
public struct TagOutcome: Sendable, Equatable {
    public let tag: Tag
    public let action: TagAction
    /// What the tag held before (nil: it did not exist).
    public let before: Digest?
    /// What the tag holds after.
    public let after: Digest?
}

/// One repository to provision with all its tags; the unit the runner retries.
public struct ProvisionJob: Sendable {
    public let id: JobID
    public let seq: Int
    public let service: String
    public let repository: RepositoryName
    public let tags: [Tag]
    /// Attempts recorded by earlier processes (a resumed run numbers its attempts after them).
    public let priorAttempts: Int
    /// Progress kept across attempts, so a retry continues where the last attempt stopped.
    let progress = JobProgress()

    public init(id: JobID, seq: Int, service: String, repository: RepositoryName, tags: [Tag], priorAttempts: Int = 0) {
        self.id = id
        self.priorAttempts = priorAttempts
        self.seq = seq
        self.service = service
        self.repository = repository
        self.tags = tags
    }
}

/// Blobs known to be in the repository and tags already settled, shared by a job's attempts.
final class JobProgress: Sendable {
    private struct State {
        var blobs: Set<Digest> = []
        var outcomes: [String: TagOutcome] = [:]
        /// Manifest PUTs sent whose answer was lost, with what the tag held before.
        var manifestsSent: [String: Digest?] = [:]
        var meter = AttemptMeter()
    }

    private let state = Mutex(State())

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
    func outcomes(in tags: [Tag]) -> [TagOutcome] {
        state.withLock { state in tags.compactMap { state.outcomes[$0.value] } }
    }

    /// How much of the job is done (blobs in place, tags settled): grows when an attempt advances it.
    var advancement: Int { state.withLock { $0.blobs.count + $0.outcomes.count } }

    /// Starts metering a new attempt and returns its meter.
    func startAttempt() -> AttemptMeter {
        let meter = AttemptMeter()
        state.withLock { $0.meter = meter }
        return meter
    }

    var meter: AttemptMeter { state.withLock { $0.meter } }
}
