import Foundation

/// The `<servers>` of a Maven `settings.xml` (https://maven.apache.org/settings.html#servers): credentials by
/// repository id.
///
/// Values are taken as written, except `${env.NAME}`, which is replaced by the environment variable (a
/// missing one is an error naming it). Passwords encrypted with `settings-security.xml` (`{...}`) are refused:
/// decrypting them would need Maven's master password. Problems are reported for the server actually asked for,
/// so a broken entry for another repository does not stop a publish.
public struct MavenSettings: Sendable, Equatable {
    /// A `<server>` entry with its values interpolated.
    public struct Server: Sendable, Equatable, CustomStringConvertible {
        public let id: String
        public let username: String?
        public let password: String?

        public init(id: String, username: String?, password: String?) {
            self.id = id
            self.username = username
            self.password = password
        }

        /// Never shows the password.
        public var description: String {
            "server '\(id)' (username \(username.map { "'\($0)'" } ?? "none"), \(password == nil ? "no password" : "password set"))"
        }
    }

    /// A `<server>` as written in the file.
    struct RawServer: Sendable, Equatable {
        let id: String
        let username: String?
        let password: String?
    }

    /// The file the settings were read from.
    public let path: String
    let rawServers: [RawServer]
    let environment: [String: String]

    /// The server ids in file order (the first of duplicates wins, as in Maven).
    public var serverIDs: [String] {
        var seen = Set<String>()
        return rawServers.map(\.id).filter { seen.insert($0).inserted }
    }

    /// `$HOME/.m2/settings.xml`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return "\(home)/.m2/settings.xml"
    }

    /// Reads `path`; a missing file is an error (use `loadDefault` for the optional `~/.m2/settings.xml`).
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(SettingsError) -> MavenSettings {
        guard FileManager.default.fileExists(atPath: path) else { throw .missingFile(path: path) }
        let data: Data
        do {
            data = try FileChunks.small(path)
        } catch {
            throw .unreadable(path: path, reason: error.reason)
        }
        return try parse(data, path: path, environment: environment)
    }

    /// `~/.m2/settings.xml` if it exists, else nil.
    public static func loadDefault(environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(SettingsError) -> MavenSettings? {
        let path = defaultPath(environment: environment)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try load(path: path, environment: environment)
    }

    /// Parses settings bytes; `path` names the file in errors.
    public static func parse(_ data: Data, path: String,
                             environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(SettingsError) -> MavenSettings {
        let root: XMLTree
        do {
            root = try XMLTree.parse(data)
        } catch {
            throw .malformed(path: path, reason: error.reason)
        }
        guard root.name == "settings" else {
            throw .malformed(path: path, reason: "the root element is <\(root.name)>, not <settings>")
        }
        var servers: [RawServer] = []
        for (index, node) in (root.child("servers")?.children("server") ?? []).enumerated() {
            guard let id = node.value("id") else { throw .serverWithoutID(path: path, position: index + 1) }
            // Maven's settings reader trims every value, passwords included.
            servers.append(RawServer(id: id, username: node.value("username"), password: node.value("password")))
        }
        return MavenSettings(path: path, rawServers: servers, environment: environment)
    }

    /// The server with this id (ids are case-sensitive), its values interpolated; nil when there is none.
    public func server(id: String) throws(SettingsError) -> Server? {
        guard let raw = rawServers.first(where: { $0.id == id }) else { return nil }
        let username = try raw.username.map { value throws(SettingsError) in
            try interpolate(value, field: "username", serverID: id)
        }
        var password: String?
        if let rawPassword = raw.password {
            if Self.isEncrypted(rawPassword) { throw .encryptedPassword(path: path, serverID: id) }
            password = try interpolate(rawPassword, field: "password", serverID: id)
        }
        return Server(id: id, username: username, password: password)
    }

    // MARK: Values

    /// Replaces every `${env.NAME}`; any other `${...}` is an error (only Maven's command line could set it).
    func interpolate(_ value: String, field: String, serverID: String) throws(SettingsError) -> String {
        var output = ""
        var rest = Substring(value)
        while let open = rest.range(of: "${") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                throw .unsupportedExpression(path: path, serverID: serverID, field: field,
                                             expression: String(rest[open.lowerBound...]))
            }
            let expression = String(rest[open.upperBound..<close])
            guard expression.hasPrefix("env."), expression.count > 4 else {
                throw .unsupportedExpression(path: path, serverID: serverID, field: field, expression: "${\(expression)}")
            }
            let name = String(expression.dropFirst(4))
            guard let substituted = environment[name] else {
                throw .missingVariable(path: path, serverID: serverID, field: field, name: name)
            }
            output += substituted
            rest = rest[rest.index(after: close)...]
        }
        return output + rest
    }

    /// Maven's encrypted form: `{BASE64}` somewhere in the value, the brace not escaped, `${...}` aside.
    static func isEncrypted(_ value: String) -> Bool {
        let scalars = Array(value.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let isExpression = scalars[index] == "$" && index + 1 < scalars.count && scalars[index + 1] == "{"
            if isExpression {
                while index < scalars.count, scalars[index] != "}" { index += 1 }
                index += 1
                continue
            }
            let escaped = index > 0 && scalars[index - 1] == "\\"
            if scalars[index] == "{", !escaped {
                var end = index + 1
                while end < scalars.count, isBase64(scalars[end]) { end += 1 }
                if end < scalars.count, scalars[end] == "}", end - index - 1 >= 8 { return true }
            }
            index += 1
        }
        return false
    }

    private static func isBase64(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "+", "/", "=": return true
        default: return false
        }
    }
}
