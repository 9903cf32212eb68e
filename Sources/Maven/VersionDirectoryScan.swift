import Checksums
import Foundation

/// The files of one directory, sorted into one `ArtifactVersion`, ignored files and problems.
struct VersionDirectoryScan {
    let directory: String
    /// Regular files by name, with their sizes.
    let files: [String: Int64]
    let filter: ArtifactFilter

    private(set) var version: ArtifactVersion?
    private(set) var ignored: [IgnoredFile] = []
    private(set) var problems: [LayoutProblem] = []

    init(directory: String, files: [String: Int64], filter: ArtifactFilter) {
        self.directory = directory
        self.files = files
        self.filter = filter
    }

    private func path(_ name: String) -> String { "\(directory)/\(name)" }

    mutating func run() {
        // 1. Files that are never published, and checksum files (attached to their files later).
        var candidates: [String] = []
        var checksums: [String: [ChecksumAlgorithm: String]] = [:]
        for name in files.keys.sorted() {
            if let reason = RepositoryScanner.ignoreReason(name) {
                ignored.append(IgnoredFile(path: path(name), reason: reason))
            } else if let algorithm = ChecksumAlgorithm.forChecksumFile(name) {
                checksums[String(name.dropLast(algorithm.fileSuffix.count)), default: [:]][algorithm] = path(name)
            } else {
                candidates.append(name)
            }
        }
        let components = directory.split(separator: "/").map(String.init)
        let hasPom = candidates.contains { $0.hasSuffix(".pom") }
        guard hasPom, components.count >= 2 else {
            if !candidates.isEmpty {
                let listed = candidates.prefix(3).joined(separator: ", ") + (candidates.count > 3 ? ", ..." : "")
                problems.append(LayoutProblem(path: directory, message: "holds \(listed) but no pom: every version "
                    + "directory needs its <artifactId>-<version>.pom (publish the directory mvn deployed into)"))
            }
            ignoreOrphanChecksums(checksums, keeping: [])
            return
        }
        let versionName = components[components.count - 1]
        let artifactId = components[components.count - 2]
        guard filter.matches(groupId: nil, artifactId: artifactId, version: versionName) else { return }

        // 2. Name every candidate; group the files by SNAPSHOT build (nil: release or plain -SNAPSHOT names).
        var groups: [SnapshotVersion?: [(name: String, parsed: ArtifactFileName)]] = [:]
        for name in candidates {
            guard let parsed = ArtifactFileName.parse(name, artifactId: artifactId, version: versionName) else {
                problems.append(LayoutProblem(path: path(name), message: "is not a file of \(artifactId) \(versionName): "
                    + "name it \(artifactId)-\(versionName)[-classifier].extension or move it out of \(directory)"))
                continue
            }
            groups[parsed.build, default: []].append((name, parsed))
        }
        let withPom = groups.filter { $0.value.contains { $0.parsed.classifier == nil && $0.parsed.fileExtension == "pom" } }
        guard let chosen = chooseBuild(Array(withPom.keys), versionName: versionName) else {
            if !groups.isEmpty {
                problems.append(LayoutProblem(path: directory, message: "has no \(artifactId)-\(versionName).pom: "
                    + "every version directory needs its pom (publish the directory mvn deployed into)"))
            }
            ignoreOrphanChecksums(checksums, keeping: [])
            return
        }
        for (build, entries) in groups where build != chosen {
            let label = build?.value ?? versionName
            for entry in entries {
                ignored.append(IgnoredFile(path: path(entry.name), reason: "file of another build (\(label)) of "
                    + "\(versionName): only \(chosen?.value ?? versionName) is published"))
            }
        }
        let entries = groups[chosen] ?? []
        ignoreOrphanChecksums(checksums, keeping: Set(entries.map(\.name)))

        // 3. The pom: readable, and about this directory.
        let pomName = entries.first { $0.parsed.classifier == nil && $0.parsed.fileExtension == "pom" }!.name
        let pom: PomInfo
        do {
            pom = try PomInfo.read(path: path(pomName))
        } catch {
            problems.append(LayoutProblem(path: path(pomName), message: error.description))
            return
        }
        guard filter.matches(groupId: pom.groupId, artifactId: artifactId, version: versionName) else { return }
        guard checkPom(pom, pomPath: path(pomName), artifactId: artifactId, version: versionName) else { return }

        // 4. The files, with coordinates Maven would accept, in Maven's upload order.
        var artifactFiles: [ArtifactFile] = []
        for entry in entries {
            do {
                _ = try MavenCoordinates(groupId: pom.groupId, artifactId: artifactId, version: versionName,
                                         classifier: entry.parsed.classifier, fileExtension: entry.parsed.fileExtension)
            } catch {
                problems.append(LayoutProblem(path: path(entry.name), message: error.description))
                continue
            }
            artifactFiles.append(ArtifactFile(path: path(entry.name), name: entry.name, classifier: entry.parsed.classifier,
                                              fileExtension: entry.parsed.fileExtension, size: files[entry.name] ?? 0,
                                              checksumFiles: checksums[entry.name] ?? [:]))
        }
        let mainExtension = pom.mainArtifactExtension
        if let mainExtension, !artifactFiles.contains(where: { $0.classifier == nil && $0.fileExtension == mainExtension }) {
            let expected = ArtifactFileName(classifier: nil, fileExtension: mainExtension, build: chosen)
                .fileName(artifactId: artifactId, version: versionName)
            problems.append(LayoutProblem(path: path(pomName), message: "has packaging \(pom.packaging) but "
                + "\(expected) is missing: add the main artifact, or set <packaging>pom</packaging>"))
            return
        }
        func rank(_ file: ArtifactFile) -> Int {
            if file.classifier == nil, file.fileExtension == mainExtension { return 0 }
            return file.isPom ? 1 : 2
        }
        artifactFiles.sort { a, b in
            if rank(a) != rank(b) { return rank(a) < rank(b) }
            if (a.classifier ?? "") != (b.classifier ?? "") { return (a.classifier ?? "") < (b.classifier ?? "") }
            return a.fileExtension < b.fileExtension
        }
        let naming: SnapshotNaming? = versionName.hasSuffix(SnapshotVersion.suffix)
            ? (chosen.map { .timestamped($0) } ?? .plain) : nil
        version = ArtifactVersion(groupId: pom.groupId, artifactId: artifactId, version: versionName,
                                  directory: directory, pom: pom, files: artifactFiles, snapshotNaming: naming)
    }

    /// The build to publish: the one the directory's own maven-metadata.xml names, else the plain
    /// `-SNAPSHOT` files, else the highest build number. Only builds that have a pom are candidates.
    private func chooseBuild(_ builds: [SnapshotVersion?], versionName: String) -> SnapshotVersion?? {
        guard !builds.isEmpty else { return nil }
        if builds.count == 1 { return .some(builds[0]) }
        if files["maven-metadata.xml"] != nil,
           let data = try? FileChunks.small(path("maven-metadata.xml")),
           let metadata = try? SnapshotMetadata.parse(data, source: path("maven-metadata.xml")),
           let named = builds.first(where: { $0?.timestamp == metadata.snapshot?.timestamp
                                              && $0?.buildNumber == metadata.snapshot?.buildNumber }) {
            return .some(named)
        }
        if builds.contains(where: { $0 == nil }) { return .some(nil) }
        let latest = builds.compactMap { $0 }.max { a, b in
            (a.buildNumber, a.timestamp) < (b.buildNumber, b.timestamp)
        }
        return .some(latest)
    }

    /// Checks the pom against the directory it is in; false (with problems recorded) when it does not fit.
    private mutating func checkPom(_ pom: PomInfo, pomPath: String, artifactId: String, version: String) -> Bool {
        var fits = true
        if pom.artifactId != artifactId {
            problems.append(LayoutProblem(path: pomPath, message: "says artifactId '\(pom.artifactId)' but is in the "
                + "directory of '\(artifactId)': fix the pom or move it to \(pom.artifactId)/\(version)"))
            fits = false
        }
        if pom.version != version {
            problems.append(LayoutProblem(path: pomPath, message: "says version '\(pom.version)' but is in the directory "
                + "of '\(version)': fix the pom or move it to \(artifactId)/\(pom.version)"))
            fits = false
        }
        do {
            _ = try MavenCoordinates(groupId: pom.groupId, artifactId: pom.artifactId, version: pom.version,
                                     fileExtension: "pom")
        } catch {
            problems.append(LayoutProblem(path: pomPath, message: "has an invalid coordinate: \(error.description)"))
            return false
        }
        let groupPath = pom.groupId.split(separator: ".").joined(separator: "/")
        if fits, !directory.hasSuffix("/\(groupPath)/\(artifactId)/\(version)") {
            problems.append(LayoutProblem(path: pomPath, message: "says groupId '\(pom.groupId)' but its directory is not "
                + "\(groupPath)/\(artifactId)/\(version): fix the pom's groupId or move the files there"))
            fits = false
        }
        return fits
    }

    /// Checksum files whose file is not among `keeping` are not checked and not published.
    private mutating func ignoreOrphanChecksums(_ checksums: [String: [ChecksumAlgorithm: String]], keeping: Set<String>) {
        for (stem, byAlgorithm) in checksums where !keeping.contains(stem) {
            let reason = files[stem] == nil ? "checksum of \(stem), which is not here" : "checksum of a file not published"
            for checksumPath in byAlgorithm.values { ignored.append(IgnoredFile(path: checksumPath, reason: reason)) }
        }
    }
}
