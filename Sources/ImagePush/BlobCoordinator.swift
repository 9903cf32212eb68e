import OCI
import Synchronization

/// Which repositories of one registry hold which blobs, for a whole run: each distinct blob is uploaded at most
/// once per registry, every other repository mounts it, and a job that needs a blob whose upload is in flight
/// waits for it and then mounts (single flight).
///
/// Mount sources come from this run first, then from `history` (the audit log), which may be stale: a stale source
/// costs nothing extra, as the registry then answers the mount with a normal upload session (202) that is used.
public actor BlobCoordinator {
    /// What a job should do for one blob.
    public enum Plan: Sendable, Equatable {
        /// The repository got it earlier in this run: nothing to send.
        case present
        /// Mount it from this repository, which got it in this run.
        case mount(from: RepositoryName)
        /// This job brings the blob to the registry first: mounting it from where the audit log says it is (a
        /// stale source turns into an upload), or uploading it. Call ``finished(_:in:success:)`` when done.
        case transfer(mountFrom: RepositoryName?)
    }

    /// Who holds a blob: every repository (looked up for each job, so a set), and the first two in the order they got
    /// it (a mount source is the first that is not the asking repository).
    private struct Holders {
        var all: Set<RepositoryName> = []
        var first: [RepositoryName] = []

        mutating func add(_ repository: RepositoryName) {
            if all.insert(repository).inserted, first.count < 2 { first.append(repository) }
        }

        func source(excluding repository: RepositoryName) -> RepositoryName? { first.first { $0 != repository } }
    }

    private var holders: [Digest: Holders] = [:]
    private var manifests: [RepositoryName: Set<Digest>] = [:]
    private var uploading: [Digest: [CheckedContinuation<Void, Never>]] = [:]
    private var fromHistory: [Digest: RepositoryName?] = [:]
    private let history: @Sendable (Digest) async -> RepositoryName?

    /// - Parameter history: a repository the audit log says holds a blob (nil: none known).
    public init(history: @escaping @Sendable (Digest) async -> RepositoryName? = { _ in nil }) {
        self.history = history
    }

    /// How `repository` gets `digest`: a mount from a repository that has it, or an upload. While another job
    /// uploads it, this waits and then plans again.
    public func plan(_ digest: Digest, for repository: RepositoryName) async -> Plan {
        while true {
            if holders[digest]?.all.contains(repository) == true { return .present }
            if let source = holders[digest]?.source(excluding: repository) { return .mount(from: source) }
            if uploading[digest] != nil {
                await withCheckedContinuation { uploading[digest, default: []].append($0) }
                continue
            }
            if fromHistory[digest] == nil {
                let found = await history(digest)
                fromHistory[digest] = .some(found)
                continue
            }
            let known = (fromHistory[digest] ?? nil).flatMap { $0 == repository ? nil : $0 }
            fromHistory[digest] = .some(nil)  // tried once: later jobs mount from this run
            uploading[digest] = []
            return .transfer(mountFrom: known)
        }
    }

    /// `repository` now holds `digest` (mounted, found present, or uploaded by someone else's plan).
    public func holds(_ digest: Digest, in repository: RepositoryName) {
        holders[digest, default: Holders()].add(repository)
    }

    /// The transfer this job owned ended; waiters plan again (and mount, if it succeeded).
    public func finished(_ digest: Digest, in repository: RepositoryName, success: Bool) {
        if success { holds(digest, in: repository) }
        for waiter in uploading.removeValue(forKey: digest) ?? [] { waiter.resume() }
    }

    /// `repository` got the manifest `digest` in this run (with everything it refers to).
    public func holds(manifest digest: Digest, in repository: RepositoryName) {
        manifests[repository, default: []].insert(digest)
    }

    /// Whether `repository` got the manifest `digest` in this run: a later job for another tag of it (a release's
    /// `latest`) needs only the tag's PUT.
    public func hasManifest(_ digest: Digest, in repository: RepositoryName) -> Bool {
        manifests[repository]?.contains(digest) ?? false
    }

    /// The repository `plan` would mount `digest` from into `repository`: the first of this run that holds it, else
    /// the one the audit log named.
    public func source(of digest: Digest, excluding repository: RepositoryName) -> RepositoryName? {
        holders[digest]?.source(excluding: repository) ?? (fromHistory[digest] ?? nil).flatMap { $0 == repository ? nil : $0 }
    }
}
