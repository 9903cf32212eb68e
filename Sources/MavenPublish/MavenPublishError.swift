import Foundation
import HTTPTransport
import JobRunner

/// Why a Maven publish or check failed: bad input (before anything is sent), an HTTP answer, the network, or a file
/// on the server that differs from the one to publish. Messages are one lowercase line with the remedy; they never
/// hold a credential.
public enum MavenPublishError: Error, Sendable, CustomStringConvertible {
    /// Input that cannot be published (layout, coordinates, settings, url): exit 2, nothing sent.
    case input(String)
    case http(operation: String, status: Int, message: String, retryAfter: String?, host: String)
    case transport(operation: String, TransportError)
    /// A release file already on the server with other content (GitHub Packages never overwrites a release).
    case conflict(path: String, remote: String, local: String)

    public var description: String {
        switch self {
        case .input(let message):
            return message
        case let .http(operation, status, message, _, host):
            let detail = message.isEmpty ? "" : ": \(message)"
            return "\(operation): \(status)\(detail)\(Self.remedy(status: status, host: host).map { "; \($0)" } ?? "")"
        case let .transport(operation, error):
            return "\(operation): \(error.message)"
        case let .conflict(path, remote, local):
            return "\(path) is already published with sha1 \(remote.prefix(12)), not \(local.prefix(12)): releases are "
                + "immutable; publish a new version"
        }
    }

    /// What GitHub Packages' answers usually mean (its troubleshooting table, in stevedore's words).
    static func remedy(status: Int, host: String) -> String? {
        switch status {
        case 401:
            return "the credentials were refused: check the settings.xml <server> for this repository (its id must "
                + "match the pom's distributionManagement id) or GITHUB_TOKEN"
        case 403:
            return "the token may not write here: a classic PAT needs write:packages (and repo for a private "
                + "repository); a read:packages token can only verify"
        case 409:
            return "the file exists and releases cannot be overwritten: publish a new version"
        case 422:
            return host.contains("maven.pkg.github.com") ? "GitHub Packages wants a lowercase artifactId and owner"
                : "the repository refused the file"
        default:
            return nil
        }
    }
}

extension MavenPublishError: JobFailureConvertible {
    public func jobFailure(now: Date) -> JobFailure {
        switch self {
        case .input(let message):
            return JobFailure(failureClass: .invalid, message: message)
        case let .http(operation, status, _, retryAfter, _):
            let failureClass: FailureClass = switch status {
            case 401: .authFailed
            case 403: .denied
            case 404: .notFound
            // A release file that exists: never retried. A SNAPSHOT's metadata may race another publisher: again.
            case 409: operation.contains("-SNAPSHOT/") || operation.hasSuffix("maven-metadata.xml") ? .server : .conflict
            case 429: .rateLimited
            case 500, 502, 503, 504: .server
            case 408: .network
            default: status >= 500 ? .server : .invalid
            }
            return JobFailure(failureClass: failureClass, message: description, httpStatus: status,
                              retryAfter: RetryAfter.parse(header: retryAfter, now: now))
        case .transport(_, let error):
            return JobFailure(failureClass: error.message == "cancelled" ? .cancelled : .network, message: description)
        case .conflict:
            return JobFailure(failureClass: .conflict, message: description, httpStatus: nil)
        }
    }
}
