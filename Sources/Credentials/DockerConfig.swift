import Foundation

/// Docker's client configuration file (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`):
/// the credentials `docker login` stored, directly (`auths`) or through a credential helper
/// (`credHelpers` per registry, `credsStore` for all).
///
/// See https://docs.docker.com/reference/cli/docker/login/ and
/// https://github.com/docker/docker-credential-helpers for the helper protocol.
public struct DockerConfig: Sendable {
    public let path: String
    /// The whole file, kept so that writing it back preserves keys we do not know.
    var object: [String: Any] { (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:] }
    private let data: Data

    /// The config file path for this environment.
    public static func path(environment: [String: String]) -> String {
        if let directory = environment["DOCKER_CONFIG"], !directory.isEmpty {
            return (directory as NSString).appendingPathComponent("config.json")
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".docker/config.json")
    }

    /// Loads the file; nil when it does not exist.
    public static func load(path: String) throws(CredentialsError) -> DockerConfig? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CredentialsError("cannot read docker config \(path); check its permissions")
        }
        guard (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
            throw CredentialsError("docker config \(path) is not a json object; fix or move it aside")
        }
        return DockerConfig(path: path, data: data)
    }

    init(path: String, data: Data) {
        self.path = path
        self.data = data
    }

    /// The keys under which docker may have stored a registry's entry.
    static func keys(for registry: String) -> [String] {
        let name = registry
        var keys = [name, "https://\(name)", "http://\(name)", "https://\(name)/v1/", "https://\(name)/v2/"]
        if name == "docker.io" || name == "registry-1.docker.io" || name == "index.docker.io" {
            keys.insert("https://index.docker.io/v1/", at: 0)
        }
        return keys
    }

    /// The credential helper responsible for `registry`, if any (`credHelpers` wins over `credsStore`).
    public func helper(for registry: String) -> String? {
        let object = self.object
        if let helpers = object["credHelpers"] as? [String: String] {
            for key in Self.keys(for: registry) { if let name = helpers[key], !name.isEmpty { return name } }
        }
        if let store = object["credsStore"] as? String, !store.isEmpty { return store }
        return nil
    }

    /// The credentials stored inline under `auths` (`auth` = base64 of `user:secret`).
    public func inlineCredentials(for registry: String) throws(CredentialsError) -> Credentials? {
        guard let auths = object["auths"] as? [String: Any] else { return nil }
        for key in Self.keys(for: registry) {
            guard let entry = auths[key] as? [String: Any] else { continue }
            if let token = entry["identitytoken"] as? String, !token.isEmpty {
                throw CredentialsError("docker config \(path) holds an identity token for \(registry), which stevedore "
                                   + "cannot use; log in with a password or token (stevedore login \(registry))")
            }
            if let auth = entry["auth"] as? String, !auth.isEmpty {
                guard let decoded = Data(base64Encoded: auth).flatMap({ String(data: $0, encoding: .utf8) }),
                      let colon = decoded.firstIndex(of: ":") else {
                    throw CredentialsError("docker config \(path): the 'auth' entry for \(key) is not base64 of "
                                       + "user:password; run stevedore login \(registry) again")
                }
                return Credentials(username: String(decoded[..<colon]), secret: String(decoded[decoded.index(after: colon)...]))
            }
            if let user = entry["username"] as? String, let secret = entry["password"] as? String {
                return Credentials(username: user, secret: secret)
            }
        }
        return nil
    }

    /// The file with `registry`'s credentials stored inline, as `docker login` writes them without a helper.
    func storingInline(_ credentials: Credentials, for registry: String) throws -> Data {
        var object = self.object
        var auths = object["auths"] as? [String: Any] ?? [:]
        for key in Self.keys(for: registry) where key != registry { auths.removeValue(forKey: key) }
        let auth = Data("\(credentials.username):\(credentials.secret)".utf8).base64EncodedString()
        auths[registry] = ["auth": auth]
        object["auths"] = auths
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }

    /// Writes `data` as the config file: parent directory 0700, file 0600, replaced atomically.
    static func write(_ data: Data, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw CredentialsError("cannot write \(temporary); check the permissions of \(directory)")
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CredentialsError("cannot replace \(path) (\(String(cString: strerror(errno))))")
        }
    }

    /// An empty config for a path that does not exist yet.
    static func empty(path: String) -> DockerConfig {
        DockerConfig(path: path, data: Data("{}".utf8))
    }
}
