import Credentials
import Foundation
import Maven

/// Finds the credentials for a Maven repository the way a Maven user expects, first match wins:
///
/// 1. `--username U --password-stdin`;
/// 2. the `<server>` of `settings.xml` (`-s FILE`, else `~/.m2/settings.xml`) whose id is `--id`, else the poms'
///    `<distributionManagement>` repository id, with `${env.NAME}` interpolated;
/// 3. `STEVEDORE_USERNAME`/`STEVEDORE_PASSWORD`; for GitHub Packages `GITHUB_ACTOR`/`GITHUB_TOKEN` (Actions).
///
/// When a publish finds none, the error says why, in the terms of GitHub's troubleshooting table: most often the
/// settings.xml server id does not match the pom's repository id (``ServerIDMismatch``).
public struct MavenCredentialLookup: Sendable {
    public var settingsPath: String?
    public var idOption: String?
    public var username: String?
    public var secret: String?
    public var environment: [String: String]

    public init(settingsPath: String? = nil, idOption: String? = nil, username: String? = nil, secret: String? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.settingsPath = settingsPath
        self.idOption = idOption
        self.username = username
        self.secret = secret
        self.environment = environment
    }

    public struct Found: Sendable {
        public let credentials: Credentials
        /// Where they came from (never the secret): `settings.xml server 'github'`, `--username`, ...
        public let source: String
    }

    /// The credentials for `plan`'s repository; nil when none are found and `required` is false (a read-only check
    /// of a repository that allows anonymous reads).
    public func resolve(_ plan: MavenPlan, required: Bool) throws(MavenPublishError) -> Found? {
        if username == nil, secret != nil { throw .input("--password-stdin needs --username U (the token's owner)") }
        if let username {
            guard let secret, !secret.isEmpty else { throw .input("--username \(username) needs the password or token on --password-stdin") }
            return Found(credentials: Credentials(username: username, secret: secret), source: "--username")
        }
        let path = settingsPath ?? MavenSettings.defaultPath(environment: environment)
        let settings: MavenSettings?
        do { settings = try MavenSettings.load(path: path, environment: environment) } catch {
            if case .missingFile = error, settingsPath == nil { settings = nil } else { throw .input(error.description) }
        }
        let wanted: (id: String, source: ServerIDMismatch.Source)? = if let idOption {
            (idOption, .option("--id"))
        } else if let pom = plan.pomRepositoryID {
            (pom.id, .pom(path: pom.pom, snapshot: pom.snapshot))
        } else {
            nil
        }
        if let wanted, let settings {
            let server: MavenSettings.Server?
            do { server = try settings.server(id: wanted.id) } catch { throw .input(error.description) }
            if let server {
                guard let user = server.username, let password = server.password, !password.isEmpty else {
                    throw .input("\(path): <server><id>\(wanted.id)</id> has no username and password; add both "
                                 + "(a classic PAT with write:packages as the password for GitHub Packages)")
                }
                return Found(credentials: Credentials(username: user, secret: password),
                             source: "\(path) server '\(wanted.id)'")
            }
        }
        if let user = environment["STEVEDORE_USERNAME"], let password = environment["STEVEDORE_PASSWORD"], !password.isEmpty {
            return Found(credentials: Credentials(username: user, secret: password), source: "STEVEDORE_USERNAME")
        }
        if GitHubPackagesRules.isGitHubPackages(plan.repositoryURL), let token = environment["GITHUB_TOKEN"], !token.isEmpty {
            return Found(credentials: Credentials(username: environment["GITHUB_ACTOR"] ?? "token", secret: token),
                         source: "GITHUB_TOKEN")
        }
        guard required else { return nil }
        if let wanted, let why = ServerIDMismatch.explain(repositoryID: wanted.id, source: wanted.source,
                                                         settings: settings, settingsPath: path) {
            throw .input(why)
        }
        throw .input("no credentials for \(plan.repositoryURL): name the settings.xml <server> with --id, give "
                     + "--username with --password-stdin, or set GITHUB_TOKEN")
    }
}
