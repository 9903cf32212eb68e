import ImageSources
import JobRunner
import OCI

/// Read-only check of a job's tags: present, and the placeholder or another image.
public struct ImageVerifier: Sendable {
    let client: RegistryClient

    public init(client: RegistryClient) {
        self.client = client
    }

    /// Records one outcome per tag; throws `not_found` when a tag is missing.
    public func verify(_ job: ImageJob) async throws -> [TagOutcome] {
        try await client.authorize(repository: job.repository, push: false, mountSources: [])
        for tag in job.tags where job.progress.outcome(for: tag) == nil {
            let digest = try await client.manifestDescriptor(repository: job.repository, reference: tag.value)?.digest
            let action: TagAction = switch digest {
            case nil: .missing
            case job.digest?: .verified
            default: .different
            }
            job.progress.record(TagOutcome(tag: tag, action: action, before: digest, after: digest))
        }
        let outcomes = job.progress.outcomes(in: job.tags)
        let missing = outcomes.filter { $0.action == .missing }.map(\.tag.value)
        if !missing.isEmpty {
            throw JobFailure(failureClass: .notFound, message: "missing tags: \(missing.joined(separator: ", "))",
                            httpStatus: 404)
        }
        return outcomes
    }
}
