import AuditStore
import Foundation

/// Where a PostgreSQL audit log lives, parsed from `postgres://USER[:PASSWORD]@HOST[:PORT]/DB?sslmode=MODE`
/// (`postgresql://` too). The password is kept apart and never appears in ``location``.
public struct PostgresLocation: Sendable, Equatable {
    /// libpq's sslmode values; `allow` is treated as `prefer`.
    public enum SSLMode: String, Sendable, Equatable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    public var sslMode: SSLMode
    /// From the URL only; ``PostgresCredentials`` adds `PGPASSWORD` and `~/.pgpass`.
    public var urlPassword: String?

    /// True for the URLs this store opens (`postgres://`, `postgresql://`).
    public static func isPostgresURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// The URL without its password, for messages and `location`.
    public var location: String {
        let query = sslMode == .prefer ? "" : "?sslmode=\(sslMode.rawValue)"
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(Self.escape(user))@\(hostPart):\(port)/\(Self.escape(database))\(query)"
    }

    /// Parses `text`; `environment` gives the defaults libpq uses (`PGUSER`, `PGHOST`, `PGPORT`, `PGDATABASE`,
    /// `PGSSLMODE`, then `USER`).
    public init(parsing text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(AuditStoreError) {
        let shown = Self.redacted(text)
        guard Self.isPostgresURL(text), let components = URLComponents(string: text) else {
            throw AuditStoreError(.cannotOpen, path: shown, message: "not a postgres:// url")
        }
        let defaultUser = environment["PGUSER"] ?? environment["USER"] ?? "postgres"
        user = components.user.flatMap { $0.removingPercentEncoding } ?? defaultUser
        if user.isEmpty { user = defaultUser }
        urlPassword = components.password.flatMap { $0.removingPercentEncoding }
        var parsedHost = components.host ?? ""
        if parsedHost.hasPrefix("["), parsedHost.hasSuffix("]") { parsedHost = String(parsedHost.dropFirst().dropLast()) }
        host = parsedHost.isEmpty ? (environment["PGHOST"] ?? "localhost") : parsedHost
        port = components.port ?? environment["PGPORT"].flatMap(Int.init) ?? 5432
        let path = String(components.path.drop { $0 == "/" })
        database = path.removingPercentEncoding.flatMap { $0.isEmpty ? nil : $0 } ?? environment["PGDATABASE"] ?? user
        let items = components.queryItems ?? []
        let mode = items.first { $0.name == "sslmode" }?.value ?? environment["PGSSLMODE"] ?? "prefer"
        guard let sslMode = SSLMode(rawValue: mode) else {
            throw AuditStoreError(.cannotOpen, path: shown,
                                  message: "unknown sslmode \(mode); use disable, prefer, require, verify-ca or verify-full")
        }
        self.sslMode = sslMode
        for item in items where item.name != "sslmode" {
            throw AuditStoreError(.cannotOpen, path: shown, message: "unknown url parameter \(item.name); only sslmode is read")
        }
    }

    /// `text` with any password replaced by `***`, for errors raised before it is parsed.
    public static func redacted(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].lastIndex(of: "@") else { return text }
        let userInfo = text[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }

    private static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed.subtracting(CharacterSet(charactersIn: ":@/"))) ?? text
    }
}
