import Foundation

/// Finds the credentials for a host in the places users already keep them; first match wins.
///
/// 1. `--username U --password-stdin`
/// 2. `STEVEDORE_USERNAME` / `STEVEDORE_PASSWORD`
/// 3. `USER_NAME` / `CR_PAT` (the variables ghcr.io guides export)
/// 4. `GITHUB_ACTOR` / `GITHUB_TOKEN`, for GitHub's hosts only (ghcr.io, maven.pkg.github.com)
/// 5. docker's config file: the registry's credential helper (`credHelpers`, else `credsStore`), else the inline
///    `auths` entry written by `docker login` or `stevedore login` (registries only)
/// 6. none: anonymous
public struct CredentialResolver: Sendable {
    public struct Found: Sendable {
        public let credentials: Credentials
        /// Where they came from, for messages; never the secret.
        public let source: String

        public init(credentials: Credentials, source: String) {
            self.credentials = credentials
            self.source = source
        }
    }

    /// Hosts whose token GitHub Actions exports as `GITHUB_TOKEN`.
    public static let githubHosts: Set<String> = ["ghcr.io", "maven.pkg.github.com"]

    let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The credentials for `host` (`host[:port]` as docker writes it), given the command-line ones.
    /// - Parameter dockerConfig: whether docker's config may answer (container registries; not Maven).
    public func resolve(host: String, username: String?, stdinSecret: String?,
                        dockerConfig: Bool = true) throws(CredentialsError) -> Found? {
        if let stdinSecret {
            guard let username, !username.isEmpty else {
                throw CredentialsError("--password-stdin needs --username")
            }
            return Found(credentials: Credentials(username: username, secret: stdinSecret), source: "--password-stdin")
        }
        if username != nil {
            throw CredentialsError("--username needs the password on standard input: add --password-stdin")
        }
        if let found = fromEnvironment(host: host) { return found }
        guard dockerConfig else { return nil }
        let path = DockerConfig.path(environment: environment)
        guard let config = try DockerConfig.load(path: path) else { return nil }
        if let helper = config.helper(for: host) {
            if let credentials = try CredentialHelper(name: helper, environment: environment).get(host) {
                return Found(credentials: credentials, source: "docker-credential-\(helper)")
            }
        }
        if let credentials = try config.inlineCredentials(for: host) {
            return Found(credentials: credentials, source: path)
        }
        return nil
    }

    /// The first complete pair of environment variables that applies to `host`.
    public func fromEnvironment(host: String) -> Found? {
        let bareHost = host.split(separator: ":").first.map { String($0).lowercased() } ?? host
        let pairs: [(String, String, Bool)] = [
            ("STEVEDORE_USERNAME", "STEVEDORE_PASSWORD", true),
            ("USER_NAME", "CR_PAT", true),
            ("GITHUB_ACTOR", "GITHUB_TOKEN", Self.githubHosts.contains(bareHost)),
        ]
        for (userVariable, secretVariable, applies) in pairs where applies {
            if let user = environment[userVariable], let secret = environment[secretVariable], !user.isEmpty, !secret.isEmpty {
                return Found(credentials: Credentials(username: user, secret: secret), source: "$\(userVariable)/$\(secretVariable)")
            }
        }
        return nil
    }

    /// Stores credentials the way `docker login` does: in the registry's credential helper when the docker
    /// config names one, else inline in `auths` (file mode 0600). Returns where they went.
    public func store(_ credentials: Credentials, for host: String) throws(CredentialsError) -> String {
        let path = DockerConfig.path(environment: environment)
        let config = try DockerConfig.load(path: path) ?? DockerConfig.empty(path: path)
        if let helper = config.helper(for: host) {
            try CredentialHelper(name: helper, environment: environment).store(credentials, for: host)
            return "docker-credential-\(helper)"
        }
        do {
            try DockerConfig.write(try config.storingInline(credentials, for: host), to: path)
        } catch let error as CredentialsError {
            throw error
        } catch {
            throw CredentialsError("cannot write \(path): \(error)")
        }
        return path
    }

    /// Reads a secret from standard input, without its trailing newline.
    public static func readSecretFromStandardInput() throws(CredentialsError) -> String {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        var text = String(decoding: data, as: UTF8.self)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        guard !text.isEmpty else {
            throw CredentialsError("--password-stdin read an empty password")
        }
        return text
    }
}
