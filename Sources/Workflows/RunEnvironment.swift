import Foundation

/// Facts about this invocation recorded with each run.
public struct RunEnvironment: Sendable {
    public static let toolVersion = "0.2.0"

    public var commandLine: String
    public var host: String
    public var user: String
    public var pid: Int32

    public init(arguments: [String] = CommandLine.arguments,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        commandLine = Redaction.commandLine(arguments)
        host = ProcessInfo.processInfo.hostName
        user = environment["USER"] ?? environment["LOGNAME"] ?? String(getuid())
        pid = getpid()
    }
}

/// Keeps secrets out of anything recorded or printed.
public enum Redaction {
    static let secretFlags: Set<String> = ["--password", "-p", "--token", "--creds", "--registry-token", "--secret",
                                          "--src-creds", "--dest-creds"]

    /// The command line with the values of secret-bearing flags and URL user-info replaced by `***`.
    public static func commandLine(_ arguments: [String]) -> String {
        var words: [String] = []
        var hideNext = false
        for argument in arguments {
            if hideNext {
                words.append("***")
                hideNext = false
                continue
            }
            if let equals = argument.firstIndex(of: "="), secretFlags.contains(String(argument[..<equals])) {
                words.append(argument[..<equals] + "=***")
            } else if secretFlags.contains(argument) {
                words.append(argument)
                hideNext = true
            } else {
                words.append(hideUserInfo(argument))
            }
        }
        return words.map(quote).joined(separator: " ")
    }

    /// `scheme://user:secret@host` becomes `scheme://user:***@host`.
    static func hideUserInfo(_ word: String) -> String {
        guard let scheme = word.range(of: "://"), let at = word[scheme.upperBound...].firstIndex(of: "@"),
              let colon = word[scheme.upperBound..<at].firstIndex(of: ":") else { return word }
        return String(word[..<word.index(after: colon)]) + "***" + String(word[at...])
    }

    private static func quote(_ word: String) -> String {
        word.isEmpty || word.contains(where: { $0 == " " || $0 == "\"" }) ? "'\(word)'" : word
    }
}
