import Foundation
import OCIRegistry

/// Finds the credentials for a registry in the places users already keep them; first match wins.
///
/// 1. `--username U --password-stdin`
/// 2. `STEVEDORE_USERNAME` / `STEVEDORE_PASSWORD`
/// 3. `USER_NAME` / `CR_PAT` (the variables ghcr.io guides export)
/// 4. `GITHUB_ACTOR` / `GITHUB_TOKEN`, for ghcr.io only
/// 5. none: anonymous
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
        return nil
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
