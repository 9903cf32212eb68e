import OCI
import Synchronization

/// What a job pushes: known before the run (a file source, the placeholder), or fetched from a source registry the
/// first time a job needs more than its digest, so a destination tag that already holds the digest is settled after
/// one HEAD on each side, without a pull. Shared by every job of the same source: fetched once per run.
public final class SourceImage: Sendable {
    /// The root manifest's digest (what the tags should hold).
    public let digest: Digest
    private let fetch: (@Sendable () async throws -> ResolvedImage)?
    private let state: Mutex<State>

    private enum State {
        case resolved(ResolvedImage)
        case fetching(Task<ResolvedImage, any Error>)
        case idle
    }

    /// An image read before the run.
    public init(_ resolved: ResolvedImage) {
        digest = resolved.artifact.manifestDigest
        fetch = nil
        state = Mutex(.resolved(resolved))
    }

    public convenience init(_ artifact: ImageArtifact) {
        self.init(ResolvedImage(artifact: artifact))
    }

    /// An image fetched on first use; `fetch` must return the manifest `digest` names.
    public init(digest: Digest, fetch: @escaping @Sendable () async throws -> ResolvedImage) {
        self.digest = digest
        self.fetch = fetch
        state = Mutex(.idle)
    }

    /// The image if it has been read already.
    public var loaded: ResolvedImage? {
        state.withLock { if case .resolved(let image) = $0 { image } else { nil } }
    }

    /// The image, fetched now if needed (one fetch at a time; a failed fetch is tried again by the next caller).
    public func resolve() async throws -> ResolvedImage {
        // Every attempt of every job asks; once read, the answer needs no task.
        if let image = loaded { return image }
        let task: Task<ResolvedImage, any Error> = state.withLock { state in
            switch state {
            case .resolved(let image): return Task { image }  // resolved in between: rare, and still correct
            case .fetching(let task): return task
            case .idle:
                let fetch = self.fetch!
                let task = Task { try await fetch() }
                state = .fetching(task)
                return task
            }
        }
        do {
            let image = try await task.value
            guard image.artifact.manifestDigest == digest else {
                throw ImageSourceError(digest.short, "was fetched as \(image.artifact.manifestDigest.short): the source "
                                       + "changed it during the run")
            }
            state.withLock { $0 = .resolved(image) }
            return image
        } catch {
            state.withLock { if case .fetching = $0 { $0 = .idle } }
            throw error
        }
    }
}
