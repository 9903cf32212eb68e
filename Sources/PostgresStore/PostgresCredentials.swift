import Foundation

/// The password for a ``PostgresLocation``, where libpq looks for it: the URL, then `PGPASSWORD`, then the
/// password file (`PGPASSFILE`, else `~/.pgpass`).
public enum PostgresCredentials {
    public static func password(for location: PostgresLocation,
                                environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let password = location.urlPassword { return password }
        if let password = environment["PGPASSWORD"], !password.isEmpty { return password }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let file = environment["PGPASSFILE"] ?? home + "/.pgpass"
        return passFileEntry(file, location: location)
    }

    /// The first line of the password file at `path` that fits: `host:port:database:user:password`, `*` matching
    /// anything, `\:` and `\\` escaped. Like libpq, a file readable by group or others is ignored.
    static func passFileEntry(_ path: String, location: PostgresLocation) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let permissions = (attributes[.posixPermissions] as? NSNumber)?.intValue,
              permissions & 0o077 == 0,
              let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return passFileEntry(text: text, location: location)
    }

    /// The password of the first fitting line of a password file's `text`.
    static func passFileEntry(text: String, location: PostgresLocation) -> String? {
        let hosts = location.host == "127.0.0.1" || location.host == "::1" ? [location.host, "localhost"] : [location.host]
        let wanted: [[String]] = [hosts, [String(location.port)], [location.database], [location.user]]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let fields = split(String(line))
            guard fields.count == 5 else { continue }
            let fits = zip(fields.prefix(4), wanted).allSatisfy { field, values in field == "*" || values.contains(field) }
            if fits { return fields[4] }
        }
        return nil
    }

    /// Splits a line on unescaped colons, removing the backslash escapes.
    private static func split(_ line: String) -> [String] {
        var fields: [String] = [""]
        var escaped = false
        for character in line {
            if escaped {
                fields[fields.count - 1].append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == ":" && fields.count < 5 {
                fields.append("")
            } else {
                fields[fields.count - 1].append(character)
            }
        }
        return fields
    }
}
