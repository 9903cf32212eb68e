import AuditStore
import Credentials

/// Why a workflow could not run at all (as opposed to jobs that failed, which a run records). The CLI maps each
/// case to its documented exit code; messages are one lowercase line with the remedy.
public enum WorkflowError: Error, Sendable, CustomStringConvertible {
    /// Bad input or usage: nothing was sent (exit 2).
    case usage(String)
    /// A services file or an image it names is broken: every problem with its line (exit 2).
    case input(ServicesFileError)
    /// The registry or repository was unreachable or refused the credentials before any job ran (exit 4).
    case unavailable(String)
    /// The audit log could not be written (exit 3).
    case audit(AuditStoreError)

    public var description: String {
        switch self {
        case .usage(let message), .unavailable(let message): message
        case .input(let error): error.description
        case .audit(let error): error.description
        }
    }
}

/// How a workflow ended, for the exit code.
public enum RunOutcome: Sendable, Equatable {
    /// Every job succeeded or was skipped.
    case succeeded
    /// At least one job failed (or, for `verify`, a tag is missing).
    case jobsFailed
    /// SIGINT/SIGTERM stopped it.
    case interrupted
}

extension CredentialsError {
    /// Credentials that cannot be read are bad input.
    public var workflowError: WorkflowError { .usage(message) }
}
