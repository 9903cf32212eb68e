/// How a child process ended and what it printed.
public struct ChildResult: Sendable, Equatable, CustomStringConvertible {
    /// The exit status, or 128 + the signal number when a signal ended the process (as a shell reports it).
    public let exitCode: Int32
    public let stdout: String
    public let stderr: String

    public init(exitCode: Int32, stdout: String, stderr: String) {
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
    }

    public var succeeded: Bool { exitCode == 0 }

    public var description: String {
        "exit \(exitCode)\n--- stdout\n\(Self.tail(stdout))\n--- stderr\n\(Self.tail(stderr))"
    }

    /// The end of a long output, enough to explain a failure in a test report.
    static func tail(_ text: String, limit: Int = 4000) -> String {
        guard text.utf8.count > limit else { return text }
        return "…" + String(decoding: text.utf8.suffix(limit), as: UTF8.self)
    }
}

/// Why a child process could not be started or did not end in time.
public enum ChildProcessError: Error, CustomStringConvertible, Sendable {
    /// The executable does not exist or is not executable (`name` was searched on `PATH`).
    case notFound(name: String)
    /// `posix_spawn` (or preparing it) failed.
    case spawnFailed(executable: String, reason: String)
    /// The child ran past its deadline and was killed; `partial` holds what it printed until then.
    case timedOut(executable: String, arguments: [String], timeout: Duration, partial: ChildResult)

    public var description: String {
        switch self {
        case .notFound(let name):
            return "executable not found: \(name)"
        case .spawnFailed(let executable, let reason):
            return "cannot start \(executable): \(reason)"
        case .timedOut(let executable, let arguments, let timeout, let partial):
            return "\(([executable] + arguments).joined(separator: " ")) did not finish within \(timeout) and was killed\n\(partial)"
        }
    }
}
