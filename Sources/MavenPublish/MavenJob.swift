import Maven
import Synchronization

/// What publishing or checking did to one file of an artifact version, as the audit log records it
/// (`item_results.action`). The raw values are a stable contract.
public enum FileAction: String, Sendable, CaseIterable {
    /// The file was not on the server and was uploaded (with its four checksum files).
    case uploaded
    /// The server already had the same file (same sha1): nothing sent.
    case skipped
    /// The server has another file under this release's name: nothing overwritten.
    case conflict
    /// A check found the file with the same checksum.
    case verified
    /// A check found no such file.
    case missing
    /// A check found another file.
    case different
    /// A dry run would upload it.
    case planned
}

/// One file's outcome, with the digests of the local file.
public struct FileOutcome: Sendable, Equatable {
    /// The path below the repository URL (`com/example/greeter/1.0.0/greeter-1.0.0.jar`).
    public let path: String
    /// The file name as published.
    public let name: String
    public let action: FileAction
    public let size: Int64
    public let sha1: String
    public let sha256: String
}

/// One artifact version to publish (or check): its files, where they go, and what is done so far, kept across
/// attempts so a retry continues where the last one stopped.
public struct MavenJob: Sendable {
    /// A local file, the name it is published under (a plain SNAPSHOT's gets the build's timestamp), and its digests
    /// (computed once, when the plan was made).
    public struct File: Sendable {
        public let file: ArtifactFile
        public let name: String
        public let checksums: MavenChecksums
    }

    public let version: ArtifactVersion
    /// The files in upload order.
    public let files: [File]
    /// The SNAPSHOT build the files are published as (nil for a release).
    public let snapshot: SnapshotVersion?
    public let progress = MavenJobProgress()

    public init(version: ArtifactVersion, files: [File], snapshot: SnapshotVersion?) {
        self.version = version
        self.files = files
        self.snapshot = snapshot
    }

    /// The file names, as the job's items.
    public var items: [String] { files.map(\.name) }

    /// `group/path/artifact/version/NAME`.
    public func path(_ name: String) -> String { "\(version.gavPath)/\(name)" }
}

/// The files a job has settled, and whether its metadata is written (lock-protected: attempts may overlap a
/// progress reader).
public final class MavenJobProgress: Sendable {
    struct State {
        var outcomes: [String: FileOutcome] = [:]
        var metadataDone = false
    }

    private let state = Mutex(State())

    public init() {}

    func record(_ outcome: FileOutcome) { state.withLock { $0.outcomes[outcome.name] = outcome } }
    func outcome(_ name: String) -> FileOutcome? { state.withLock { $0.outcomes[name] } }
    func markMetadataDone() { state.withLock { $0.metadataDone = true } }
    var metadataDone: Bool { state.withLock { $0.metadataDone } }

    /// The outcomes in the job's file order.
    public func outcomes(in job: MavenJob) -> [FileOutcome] {
        let outcomes = state.withLock { $0.outcomes }
        return job.files.compactMap { outcomes[$0.name] }
    }

    /// How much is done (grows when an attempt advances the job, which then does not count against the limit).
    public var advancement: Int { state.withLock { $0.outcomes.count + ($0.metadataDone ? 1 : 0) } }
}
