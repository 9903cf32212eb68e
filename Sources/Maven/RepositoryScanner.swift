import Checksums
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Finds every artifact version in a directory laid out like a Maven repository: what
/// `mvn deploy -DaltDeploymentRepository=staging::file:DIR` writes, or a subtree of `~/.m2/repository`.
///
/// A version directory is one holding a pom named `<artifactId>-<version>.pom` (or a timestamped SNAPSHOT form),
/// `<artifactId>` and `<version>` being the names of the directory's parent and of the directory itself. Its
/// pom supplies the groupId, and the directory's path must end with the groupId's path, so the directory given
/// may be the repository root or any directory below it.
///
/// Left out, and listed in `ignored`: checksum files (`.md5`, `.sha1`, `.sha256`, `.sha512`; checked by
/// `ChecksumVerifier`, and recomputed by the upload), `maven-metadata*.xml` (the publish merges the server's),
/// `_remote.repositories`, `*.lastUpdated`, `resolver-status.properties`, hidden files, and the files of older
/// SNAPSHOT builds. Signatures (`.asc`) are published like any other file (extension `jar.asc`), as Maven does.
/// Anything else that does not fit is a `LayoutProblem`. Nothing is sent anywhere.
public struct RepositoryScanner: Sendable {
    public let root: String
    public let filter: ArtifactFilter

    public init(root: String, filter: ArtifactFilter = ArtifactFilter()) {
        self.root = URL(fileURLWithPath: root).standardizedFileURL.path
        self.filter = filter
    }

    /// Walks the directory (sorted, symbolic links to directories not followed). Throws only when the root itself
    /// is missing, not a directory or unreadable; everything else is reported in the scan.
    public func scan() throws(LayoutError) -> RepositoryScan {
        var info = stat()
        guard stat(root, &info) == 0 else {
            throw LayoutError(path: root, reason: "does not exist: give the directory mvn deployed into (file:DIR)")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw LayoutError(path: root, reason: "is not a directory: give the directory that holds the repository layout")
        }
        guard (try? FileManager.default.contentsOfDirectory(atPath: root)) != nil else {
            throw LayoutError(path: root, reason: "cannot be read: check its permissions")
        }
        var state = ScanState()
        walk(root, state: &state)
        let versions = state.versions.sorted { a, b in
            if a.groupId != b.groupId { return a.groupId < b.groupId }
            if a.artifactId != b.artifactId { return a.artifactId < b.artifactId }
            return MavenVersionOrder.areInIncreasingOrder(a.version, b.version)
        }
        return RepositoryScan(root: root, versions: versions,
                              ignored: state.ignored.sorted { $0.path < $1.path },
                              problems: state.problems.sorted { ($0.path, $0.message) < ($1.path, $1.message) })
    }

    // MARK: Walking

    struct ScanState {
        var versions: [ArtifactVersion] = []
        var ignored: [IgnoredFile] = []
        var problems: [LayoutProblem] = []
    }

    private func walk(_ directory: String, state: inout ScanState) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            state.problems.append(LayoutProblem(path: directory, message: "cannot be read: check its permissions"))
            return
        }
        var files: [String: Int64] = [:]
        var subdirectories: [String] = []
        for name in names {
            let path = "\(directory)/\(name)"
            var link = stat()
            guard lstat(path, &link) == 0 else { continue }
            if (link.st_mode & S_IFMT) == S_IFDIR {
                if name.hasPrefix(".") {
                    state.ignored.append(IgnoredFile(path: path, reason: "hidden directory"))
                } else {
                    subdirectories.append(path)
                }
                continue
            }
            var target = stat()
            guard stat(path, &target) == 0 else {
                state.problems.append(LayoutProblem(path: path, message: "is a broken symbolic link: fix or remove it"))
                continue
            }
            switch target.st_mode & S_IFMT {
            case S_IFREG:
                files[name] = Int64(target.st_size)
            case S_IFDIR:
                state.ignored.append(IgnoredFile(path: path, reason: "symbolic link to a directory (not followed)"))
            default:
                state.problems.append(LayoutProblem(path: path, message: "is not a regular file: remove it"))
            }
        }
        if !files.isEmpty {
            var directoryScan = VersionDirectoryScan(directory: directory, files: files, filter: filter)
            directoryScan.run()
            if let version = directoryScan.version { state.versions.append(version) }
            state.ignored += directoryScan.ignored
            state.problems += directoryScan.problems
        }
        for subdirectory in subdirectories { walk(subdirectory, state: &state) }
    }

    /// Why a file is never published, by name alone; nil for a file that may be.
    static func ignoreReason(_ name: String) -> String? {
        if name.hasPrefix(".") { return "hidden file" }
        switch name {
        case "_remote.repositories", "_maven.repositories":
            return "bookkeeping of maven's local repository"
        case "resolver-status.properties":
            return "state of maven's resolver"
        default:
            break
        }
        if name.hasSuffix(".lastUpdated") { return "failed-download marker of maven's local repository" }
        var stem = name
        if let algorithm = ChecksumAlgorithm.forChecksumFile(name) { stem = String(name.dropLast(algorithm.fileSuffix.count)) }
        if stem.hasPrefix("maven-metadata"), stem.hasSuffix(".xml") {
            return "repository metadata: the publish merges the server's maven-metadata.xml instead"
        }
        return nil
    }
}
