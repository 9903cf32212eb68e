import Checksums
import Foundation
import HTTPTransport
import Maven
import Timekeeping

/// Publishes artifact versions to a Maven repository as `mvn deploy` does, but idempotently: per file, the server's
/// `.sha1` is asked first; the same file is skipped, another file under a release's name is a conflict (nothing is
/// overwritten), a missing one is uploaded with its `.md5`, `.sha1`, `.sha256` and `.sha512`. Then the version-level
/// metadata of a SNAPSHOT and the artifact-level `maven-metadata.xml` are fetched, merged and put back, one job of an
/// artifact at a time. A rerun of a finished publish sends no PUT.
public struct MavenPublisher: Sendable {
    let client: MavenRepositoryClient
    let locks: MetadataLocks
    let time: any TimeSource

    public init(client: MavenRepositoryClient, locks: MetadataLocks = MetadataLocks(), time: any TimeSource = SystemTime()) {
        self.client = client
        self.locks = locks
        self.time = time
    }

    /// Publishes what is missing of `job`; progress is kept in the job, so a retry continues.
    public func publish(_ job: MavenJob) async throws(MavenPublishError) -> [FileOutcome] {
        var changed = false
        for entry in job.files where job.progress.outcome(entry.name) == nil {
            let path = job.path(entry.name), sums = entry.checksums
            if let remote = try await remoteSHA1(path) {
                if remote == sums.sha1 {
                    job.progress.record(outcome(job, entry, .skipped))
                    continue
                }
                if job.snapshot == nil {
                    job.progress.record(outcome(job, entry, .conflict))
                    throw .conflict(path: path, remote: remote, local: sums.sha1)
                }
                // A SNAPSHOT build's file may be replaced (a rerun of an interrupted deploy of the same build).
            }
            try await upload(entry.file, to: path, sums: sums, release: job.snapshot == nil)
            job.progress.record(outcome(job, entry, .uploaded))
            changed = true
        }
        if !job.progress.metadataDone {
            try await writeMetadata(job, filesChanged: changed)
            job.progress.markMetadataDone()
        }
        return job.progress.outcomes(in: job)
    }

    /// Checks, read-only, that every file is on the server with the local file's sha1.
    public func verify(_ job: MavenJob) async throws(MavenPublishError) -> [FileOutcome] {
        for entry in job.files where job.progress.outcome(entry.name) == nil {
            let sums = entry.checksums
            let action: FileAction = switch try await remoteSHA1(job.path(entry.name)) {
            case nil: .missing
            case sums.sha1: .verified
            default: .different
            }
            job.progress.record(outcome(job, entry, action))
        }
        return job.progress.outcomes(in: job)
    }

    /// What a publish would do, without writing anything.
    public func plan(_ job: MavenJob) async throws(MavenPublishError) -> [FileOutcome] {
        var outcomes: [FileOutcome] = []
        for entry in job.files {
            let sums = entry.checksums
            let action: FileAction = switch try await remoteSHA1(job.path(entry.name)) {
            case nil: .planned
            case sums.sha1: .skipped
            default: job.snapshot == nil ? .conflict : .planned
            }
            outcomes.append(outcome(job, entry, action))
        }
        return outcomes
    }

    // MARK: Files

    /// The server's sha1 of `path` (its `.sha1` file: bare hex, or coreutils' `hex  name`), nil when absent.
    func remoteSHA1(_ path: String) async throws(MavenPublishError) -> String? {
        guard let body = try await client.get(path + ".sha1", limit: 1 << 10) else { return nil }
        let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map { $0.lowercased() }
    }

    /// The file streamed from disk, then its four checksum files. A 409 on a release file means it is there
    /// (an earlier attempt's PUT landed but its checksums did not): its content decides between done and conflict.
    private func upload(_ file: ArtifactFile, to path: String, sums: MavenChecksums, release: Bool) async throws(MavenPublishError) {
        do {
            try await client.put(path, body: .file(path: file.path, length: file.size))
        } catch .http(_, 409, _, _, _) where release {
            guard let body = try await client.get(path, limit: Int(min(file.size + 1, 1 << 30))) else { throw .conflict(path: path, remote: "absent", local: sums.sha1) }
            let remote = MavenChecksums.of(body).sha1
            guard remote == sums.sha1 else { throw .conflict(path: path, remote: remote, local: sums.sha1) }
        }
        try await putChecksums(path, sums)
    }

    private func putChecksums(_ path: String, _ sums: MavenChecksums) async throws(MavenPublishError) {
        for algorithm in ChecksumAlgorithm.allCases {
            try await client.put(path + algorithm.fileSuffix, body: .bytes(sums.fileContents(algorithm)), contentType: "text/plain")
        }
    }

    private func outcome(_ job: MavenJob, _ entry: MavenJob.File, _ action: FileAction) -> FileOutcome {
        FileOutcome(path: job.path(entry.name), name: entry.name, action: action, size: entry.checksums.byteCount,
                    sha1: entry.checksums.sha1, sha256: entry.checksums.sha256)
    }

    // MARK: Metadata

    /// The SNAPSHOT's version-level metadata, then the artifact-level one, each fetched, merged and put back with
    /// its checksums, under the artifact's lock. Nothing is put when the server's document already lists the
    /// version and no file changed.
    private func writeMetadata(_ job: MavenJob, filesChanged: Bool) async throws(MavenPublishError) {
        await locks.acquire(job.version.artifactPath)
        do {
            try await mergeMetadata(job, filesChanged: filesChanged)
            await locks.release(job.version.artifactPath)
        } catch {
            await locks.release(job.version.artifactPath)
            throw error
        }
    }

    private func mergeMetadata(_ job: MavenJob, filesChanged: Bool) async throws(MavenPublishError) {
        let now = time.wallClock
        if let build = job.snapshot { try await mergeSnapshotMetadata(job, build: build, filesChanged: filesChanged, at: now) }
        let version = job.version
        let path = "\(version.artifactPath)/maven-metadata.xml"
        let remote = try await fetch(path) { data throws(MetadataError) in
            try ArtifactMetadata.parse(data, source: client.address(path))
        }
        if !filesChanged, remote?.versions.contains(SnapshotVersion.baseVersion(of: version.version)) == true { return }
        let document: ArtifactMetadata
        do {
            document = try ArtifactMetadata.afterPublishing([version.version], groupId: version.groupId,
                                                            artifactId: version.artifactId, remote: remote, at: now,
                                                            source: client.address(path))
        } catch {
            throw .input("\(error)")
        }
        try await putDocument(path, document.render())
    }

    /// The version-level document of a SNAPSHOT build: its files' entries merged into the server's.
    private func mergeSnapshotMetadata(_ job: MavenJob, build: SnapshotVersion, filesChanged: Bool,
                                       at now: Date) async throws(MavenPublishError) {
        let version = job.version
        let path = "\(version.gavPath)/maven-metadata.xml"
        let remote = try await fetch(path) { data throws(MetadataError) in
            try SnapshotMetadata.parse(data, source: client.address(path))
        }
        let listed = remote?.snapshot?.buildNumber == build.buildNumber && remote?.snapshot?.timestamp == build.timestamp
        guard filesChanged || !listed else { return }
        let ours = SnapshotMetadata(groupId: version.groupId, artifactId: version.artifactId, build: build,
                                    files: job.files.map { ($0.file.classifier, $0.file.fileExtension) }, at: now)
        let merged: SnapshotMetadata
        do {
            merged = try remote.map { other throws(MetadataError) in try ours.merged(into: other, source: client.address(path)) }
                ?? ours
        } catch {
            throw .input("\(error)")
        }
        try await putDocument(path, merged.render())
    }

    private func fetch<T>(_ path: String, _ parse: (Data) throws(MetadataError) -> T) async throws(MavenPublishError) -> T? {
        guard let body = try await client.get(path) else { return nil }
        do { return try parse(Data(body)) } catch { throw .input("\(client.address(path)): \(error)") }
    }

    private func putDocument(_ path: String, _ text: String) async throws(MavenPublishError) {
        let bytes = Array(text.utf8)
        try await client.put(path, body: .bytes(bytes), contentType: "application/xml")
        try await putChecksums(path, MavenChecksums.of(bytes))
    }
}

/// One job of an artifact at a time may write its metadata (two versions published at once would each merge the
/// server's document without the other's version).
public actor MetadataLocks {
    private var held: Set<String> = []
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    public init() {}

    /// Waits until no other job holds `key`, then holds it.
    func acquire(_ key: String) async {
        while held.contains(key) { await withCheckedContinuation { waiters[key, default: []].append($0) } }
        held.insert(key)
    }

    /// Lets the next job waiting for `key` in.
    func release(_ key: String) {
        held.remove(key)
        guard var queue = waiters[key], !queue.isEmpty else { return }
        queue.removeFirst().resume()
        waiters[key] = queue.isEmpty ? nil : queue
    }
}
