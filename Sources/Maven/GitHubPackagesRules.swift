import Foundation

/// A GitHub Packages Maven registry: `https://maven.pkg.github.com/OWNER/REPOSITORY`.
///
/// See https://docs.github.com/en/packages/working-with-a-github-packages-registry/working-with-the-apache-maven-registry.
public struct GitHubPackagesRepository: Sendable, Hashable, CustomStringConvertible {
    public static let host = "maven.pkg.github.com"

    public let owner: String
    public let repository: String

    /// `https://maven.pkg.github.com/OWNER/REPOSITORY` (no trailing slash).
    public var url: String { "https://\(Self.host)/\(owner)/\(repository)" }

    public var description: String { url }
}

/// What GitHub Packages refuses that a plain Maven repository would accept, checked before any request.
///
/// GitHub answers these with 422 Unprocessable Entity after the upload has started; checking them here turns
/// that into a one-line error that says what to change.
public enum GitHubPackagesRules {
    /// Whether `url` points at GitHub Packages' Maven registry (host `maven.pkg.github.com`).
    public static func isGitHubPackages(_ url: String) -> Bool {
        URLComponents(string: url)?.host?.lowercased() == GitHubPackagesRepository.host
    }

    /// Parses and checks a GitHub Packages URL: https, exactly OWNER/REPOSITORY below the host, owner in
    /// lowercase. Returns nil for any other host (a plain Maven repository, which has no such rules).
    public static func repository(fromURL url: String) throws(GitHubPackagesError) -> GitHubPackagesRepository? {
        guard isGitHubPackages(url), let components = URLComponents(string: url) else { return nil }
        guard components.scheme?.lowercased() == "https" else {
            throw .notHTTPS(url: url)
        }
        let parts = components.path.split(separator: "/").map(String.init)
        guard parts.count == 2, components.query == nil else {
            throw .notARepositoryURL(url: url)
        }
        let owner = parts[0]
        let repository = parts[1]
        if owner != owner.lowercased() {
            throw .uppercaseOwner(url: url, owner: owner)
        }
        return GitHubPackagesRepository(owner: owner, repository: repository)
    }

    /// GitHub Packages' rules for one artifact: the artifactId must be lowercase.
    public static func check(_ coordinates: MavenCoordinates) throws(GitHubPackagesError) {
        if coordinates.artifactId != coordinates.artifactId.lowercased() {
            throw .uppercaseArtifactId(coordinates: coordinates)
        }
    }
}

/// Something GitHub Packages would refuse, with the change that avoids it.
public enum GitHubPackagesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The artifactId has uppercase letters: GitHub answers 422 Unprocessable Entity.
    case uppercaseArtifactId(coordinates: MavenCoordinates)
    /// The owner in the URL has uppercase letters: GitHub answers 422 Unprocessable Entity.
    case uppercaseOwner(url: String, owner: String)
    /// The path below the host is not exactly OWNER/REPOSITORY.
    case notARepositoryURL(url: String)
    /// The URL is not https.
    case notHTTPS(url: String)

    public var description: String {
        switch self {
        case .uppercaseArtifactId(let coordinates):
            return "artifactId '\(coordinates.artifactId)' of \(coordinates.groupId) \(coordinates.version) has uppercase "
                + "letters, which github packages refuses with 422 unprocessable entity: use '\(coordinates.artifactId.lowercased())'"
        case .uppercaseOwner(let url, let owner):
            let fixed = url.replacingOccurrences(of: "/\(owner)/", with: "/\(owner.lowercased())/")
            return "repository url \(url) has the owner '\(owner)' in uppercase, which github packages refuses with "
                + "422 unprocessable entity: use \(fixed)"
        case .notARepositoryURL(let url):
            return "repository url \(url) is not a github packages repository: "
                + "use https://\(GitHubPackagesRepository.host)/OWNER/REPOSITORY"
        case .notHTTPS(let url):
            return "repository url \(url) is not https: github packages serves only https://\(GitHubPackagesRepository.host)/OWNER/REPOSITORY"
        }
    }
}
