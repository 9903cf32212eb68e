/// A `settings.xml` that cannot give the credentials asked for; every message names the file and the remedy.
public enum SettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingFile(path: String)
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)
    /// The `position`th `<server>` (1-based) has no `<id>`.
    case serverWithoutID(path: String, position: Int)
    /// `${env.NAME}` names a variable that is not set.
    case missingVariable(path: String, serverID: String, field: String, name: String)
    /// A `${...}` other than `${env.NAME}`: a Maven system property, which only `mvn -D` can set.
    case unsupportedExpression(path: String, serverID: String, field: String, expression: String)
    /// `{...}` encrypted with settings-security.xml.
    case encryptedPassword(path: String, serverID: String)

    public var path: String {
        switch self {
        case .missingFile(let path), .unreadable(let path, _), .malformed(let path, _),
             .serverWithoutID(let path, _), .missingVariable(let path, _, _, _),
             .unsupportedExpression(let path, _, _, _), .encryptedPassword(let path, _):
            return path
        }
    }

    public var description: String {
        switch self {
        case .missingFile(let path):
            return "settings file \(path) does not exist: create it with a <server> entry, or give another with --settings"
        case .unreadable(let path, let reason):
            return "cannot read settings file \(path): \(reason)"
        case .malformed(let path, let reason):
            return "settings file \(path) is not valid xml: \(reason); fix the file"
        case .serverWithoutID(let path, let position):
            return "settings file \(path): <server> number \(position) has no <id>; add the repository id it is for"
        case .missingVariable(let path, let serverID, let field, let name):
            return "settings file \(path): server '\(serverID)' uses ${env.\(name)} in <\(field)>, but \(name) is not set: "
                + "export \(name) or write the value into the file"
        case .unsupportedExpression(let path, let serverID, let field, let expression):
            return "settings file \(path): server '\(serverID)' uses \(expression) in <\(field)>, which only mvn -D can set: "
                + "use ${env.NAME} or write the value into the file"
        case .encryptedPassword(let path, let serverID):
            return "settings file \(path): server '\(serverID)' has a password encrypted with settings-security.xml, which "
                + "stevedore cannot decrypt: put a token in <password>, use <password>${env.GITHUB_TOKEN}</password>, "
                + "or set GITHUB_TOKEN"
        }
    }
}
