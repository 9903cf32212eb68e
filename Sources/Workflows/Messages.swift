import AuditStore
import JobRunner

extension Provisioner {
    /// Why the batch stopped after its first job, and what to do about it.
    static func canaryMessage(_ failure: JobFailure, access: RegistryAccess, target: String, push: Bool) -> String {
        let who = access.credentials.map { "the credentials of \($0.username)" } ?? "anonymous access"
        switch failure.failureClass {
        case .denied:
            return "denied: \(who) cannot \(push ? "push to" : "read") \(target) (\(failure.message)); use credentials with "
                + "\(push ? "write" : "read") access (for ghcr.io a classic PAT with \(push ? "write" : "read"):packages)"
                + (push ? "; read-only credentials can only run stevedore verify" : "")
        default:
            return "\(access.registry) refused \(who) (\(failure.message)); check the username and the password or token"
        }
    }

    static func workflowError(_ error: any Error) -> WorkflowError {
        if let error = error as? WorkflowError { return error }
        if let error = error as? AuditStoreError { return .audit(error) }
        return .usage("\(error)")
    }
}

/// Runs an audit-log call, turning its failure into the workflow's error.
func audited<T>(_ body: () async throws -> T) async throws(WorkflowError) -> T {
    do {
        return try await body()
    } catch let error as AuditStoreError {
        throw .audit(error)
    } catch {
        throw Provisioner.workflowError(error)
    }
}
