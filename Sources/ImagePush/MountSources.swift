import OCI

/// Remembers a repository known to hold the image's blobs, to mount from instead of uploading.
///
/// A repository provisioned in this run is preferred over one found in the audit log, which may
/// have been deleted since; a stale source costs nothing extra, as the registry then simply
/// starts a normal upload (202) that the client continues.
public actor MountSources {
    private var current: RepositoryName?
    private var fromThisRun = false

    public init(fromHistory: RepositoryName?) {
        current = fromHistory
    }

    /// A source other than `repository`, if one is known.
    public func source(for repository: RepositoryName) -> RepositoryName? {
        current == repository ? nil : current
    }

    /// Notes that `repository` now holds the blobs.
    public func add(_ repository: RepositoryName) {
        guard !fromThisRun else { return }
        current = repository
        fromThisRun = true
    }
}
