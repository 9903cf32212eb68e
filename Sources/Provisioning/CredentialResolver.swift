import Foundation
import OCIRegistry

/// Finds the credentials for a registry in the places users already keep them; first match wins.
///
/// 1. `--username U --password-stdin`
/// 2. `STEVEDORE_USERNAME` / `STEVEDORE_PASSWORD`
/// 3. `USER_NAME` / `CR_PAT` (the variables ghcr.io guides export)
/// 4. `GITHUB_ACTOR` / `GITHUB_TOKEN`, for ghcr.io only
/// 5. docker's config file: the registry's credential helper (`credHelpers`, else `credsStore`), else
///    the inline `auths` entry written by `docker login` or `stevedore login`
/// 6. none: anonymous
public struct CredentialResolver: Sendable {
    public struct Found: Sendable {
        public let credentials: Credentials
        /// Where they came from, for messages; never the secret.
        public let source: String
    }

    let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    public func resolve(registry: RegistryHost, username: String?, stdinSecret: String?) throws(CommandError) -> Found? {
        if let stdinSecret {
            guard let username, !username.isEmpty else {
                throw CommandError("error: --password-stdin needs --username", status: .usage)
            }
            return Found(credentials: Credentials(username: username, secret: stdinSecret), source: "--password-stdin")
        }
        if username != nil {
            throw CommandError("error: --username needs the password on standard input: add --password-stdin", status: .usage)
        }
        let pairs: [(String, String, Bool)] = [
            ("STEVEDORE_USERNAME", "STEVEDORE_PASSWORD", true),
            ("USER_NAME", "CR_PAT", true),
            ("GITHUB_ACTOR", "GITHUB_TOKEN", registry.host == "ghcr.io"),
        ]
        for (userVariable, secretVariable, applies) in pairs where applies {
            if let user = environment[userVariable], let secret = environment[secretVariable], !user.isEmpty, !secret.isEmpty {
                return Found(credentials: Credentials(username: user, secret: secret),
                             source: "$\(userVariable)/$\(secretVariable)")
            }
        }
        let path = DockerConfig.path(environment: environment)
        guard let config = try DockerConfig.load(path: path) else { return nil }
        if let helper = config.helper(for: registry) {
            if let credentials = try CredentialHelper(name: helper, environment: environment).get(registry) {
                return Found(credentials: credentials, source: "docker-credential-\(helper)")
            }
        }
        if let credentials = try config.inlineCredentials(for: registry) {
            return Found(credentials: credentials, source: path)
        }
        return nil
    }

    /// Stores credentials the way `docker login` does: in the registry's credential helper when the docker
    /// config names one, else inline in `auths` (file mode 0600). Returns where they went.
    public func store(_ credentials: Credentials, for registry: RegistryHost) throws(CommandError) -> String {
        let path = DockerConfig.path(environment: environment)
        let config = try DockerConfig.load(path: path) ?? DockerConfig.empty(path: path)
        if let helper = config.helper(for: registry) {
            try CredentialHelper(name: helper, environment: environment).store(credentials, for: registry)
            return "docker-credential-\(helper)"
        }
        do {
            try DockerConfig.write(try config.storingInline(credentials, for: registry), to: path)
        } catch let error as CommandError {
            throw error
        } catch {
            throw CommandError("error: cannot write \(path): \(error)", status: .usage)
        }
        return path
    }

    /// Reads a secret from standard input, without its trailing newline.
    public static func readSecretFromStandardInput() throws(CommandError) -> String {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        var text = String(decoding: data, as: UTF8.self)
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        guard !text.isEmpty else {
            throw CommandError("error: --password-stdin read an empty password", status: .usage)
        }
        return text
    }
}
