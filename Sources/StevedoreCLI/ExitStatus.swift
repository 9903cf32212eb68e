import AuditStore
import Credentials
import Workflows

/// Exit codes scripts can rely on; documented in the README. Only the CLI picks them.
enum ExitStatus: Int32, Sendable {
    /// Every job succeeded or was skipped.
    case success = 0
    /// At least one job failed (or, for `verify`, a tag is missing; for `audit verify`, the log was altered).
    case jobsFailed = 1
    /// Bad usage or input: nothing was sent.
    case usage = 2
    /// The audit database cannot be opened, is corrupt or is newer than this binary.
    case auditDatabase = 3
    /// The registry could not be reached or refused the credentials before any job ran.
    case registryUnavailable = 4
    /// Interrupted by SIGINT/SIGTERM.
    case interrupted = 130

    init(_ outcome: RunOutcome) {
        switch outcome {
        case .succeeded: self = .success
        case .jobsFailed: self = .jobsFailed
        case .interrupted: self = .interrupted
        }
    }

    /// The exit status and the one-line message (without the `error: ` prefix) for an error a command threw.
    static func of(_ error: any Error) -> (ExitStatus, String) {
        switch error {
        case let error as CommandError: (error.status, error.message)
        case let error as WorkflowError:
            switch error {
            case .usage(let message): (.usage, message)
            case .unavailable(let message): (.registryUnavailable, message)
            case .input(let error): (.usage, error.description)
            case .audit(let error): (.auditDatabase, error.description)
            }
        case let error as ServicesFileError: (.usage, error.description)
        case let error as CredentialsError: (.usage, error.message)
        case let error as AuditStoreError: (.auditDatabase, error.description)
        default: (.jobsFailed, "\(error)")
        }
    }
}

/// An error the CLI itself raises: a message and the exit status it ends the command with.
struct CommandError: Error, Sendable, CustomStringConvertible {
    let message: String
    let status: ExitStatus

    init(_ message: String, status: ExitStatus) {
        self.message = message
        self.status = status
    }

    var description: String { message }
}
