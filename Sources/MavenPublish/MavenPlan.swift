import Foundation
import Maven

/// What a publish will do, worked out from the directory alone, before any request: every artifact version found
/// (one job each), checked against its checksum files and, for GitHub Packages, its rules (lowercase owner and
/// artifactId). Any problem is a ``MavenPublishError/input(_:)`` naming the file: exit 2, nothing sent.
public struct MavenPlan: Sendable {
    public let directory: String
    public let repositoryURL: String
    public let versions: [ArtifactVersion]
    /// The digests of every file, by path: read once, for the checksum-file check and for the publish.
    public let checksums: [String: MavenChecksums]

    /// A plan of versions already scanned, without checksums read (what `doctor` needs to look up credentials).
    public init(directory: String, repositoryURL: String, versions: [ArtifactVersion]) {
        self.init(directory: directory, repositoryURL: repositoryURL, versions: versions, checksums: [:])
    }

    init(directory: String, repositoryURL: String, versions: [ArtifactVersion], checksums: [String: MavenChecksums]) {
        self.directory = directory
        self.repositoryURL = repositoryURL
        self.versions = versions
        self.checksums = checksums
    }

    public static func make(directory: String, repositoryURL: String,
                            filter: ArtifactFilter = ArtifactFilter()) throws(MavenPublishError) -> MavenPlan {
        do {
            _ = try GitHubPackagesRules.repository(fromURL: repositoryURL)
        } catch {
            throw .input("\(error)")
        }
        let scan: RepositoryScan
        do { scan = try RepositoryScanner(root: directory, filter: filter).scan() } catch {
            throw .input(error.description)
        }
        try Self.refuse(scan.problems)
        guard !scan.versions.isEmpty else {
            throw .input("\(scan.root) holds no artifact version\(filter == ArtifactFilter() ? "" : " matching the filters"): "
                         + "give the directory mvn deployed into (-DaltDeploymentRepository=staging::file:DIR) or ~/.m2/repository")
        }
        var checksums: [String: MavenChecksums] = [:]
        var problems: [LayoutProblem] = []
        for file in scan.versions.flatMap(\.files) {
            do {
                let sums = try MavenChecksums.ofFile(atPath: file.path)
                checksums[file.path] = sums
                problems += ChecksumVerifier.verify(file, actual: sums)
            } catch {
                problems.append(LayoutProblem(path: file.path, message: error.description))
            }
        }
        try Self.refuse(problems)
        if GitHubPackagesRules.isGitHubPackages(repositoryURL) {
            for version in scan.versions {
                do { try GitHubPackagesRules.check(try version.coordinates(of: version.pomFile)) } catch {
                    throw .input("\(version.pomFile.path): \(error)")
                }
            }
        }
        return MavenPlan(directory: scan.root, repositoryURL: repositoryURL, versions: scan.versions, checksums: checksums)
    }

    /// One line for the first problem, with the count of the others.
    static func refuse(_ problems: [LayoutProblem]) throws(MavenPublishError) {
        guard let first = problems.first else { return }
        throw .input(first.description + (problems.count > 1 ? " (and \(problems.count - 1) more problems)" : ""))
    }

    /// The repository id the poms deploy to (`<distributionManagement>`), when they agree on one.
    public var pomRepositoryID: (id: String, pom: String, snapshot: Bool)? {
        for version in versions {
            if let id = version.pom.deploymentRepository?.id {
                return (id, version.pom.path, version.isSnapshot && version.pom.snapshotRepository != nil)
            }
        }
        return nil
    }

    /// The jobs: each version's files in upload order under their published names. A plain SNAPSHOT (a local
    /// install) gets the build `next` gives it; a timestamped one (a deploy to a directory) keeps its build.
    public func jobs(snapshotBuild next: (ArtifactVersion) -> SnapshotVersion?) -> [MavenJob] {
        versions.map { version in
            let build: SnapshotVersion?
            switch version.snapshotNaming {
            case nil: build = nil
            case .timestamped(let found): build = found
            case .plain: build = next(version)
            }
            let files = Self.uploadOrder(version.files).map { file in
                MavenJob.File(file: file, name: build.map { $0.fileName(artifactId: version.artifactId, classifier: file.classifier,
                                                                        fileExtension: file.fileExtension) } ?? file.name,
                              checksums: checksums[file.path]!)
            }
            return MavenJob(version: version, files: files, snapshot: build)
        }
    }

    /// Maven's order: the main artifact, the other files, the pom last (a resolver sees the pom only once the
    /// files it describes are there).
    static func uploadOrder(_ files: [ArtifactFile]) -> [ArtifactFile] {
        files.filter { !$0.isPom } + files.filter(\.isPom)
    }
}
