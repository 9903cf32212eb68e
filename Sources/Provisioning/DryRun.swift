import Foundation
import ImageSources
import JobRunner
import OCIRegistry

/// `provision --dry-run`: reads what every tag holds and prints what a run would do.
/// Writes nothing to the registry and nothing to the audit log.
public struct DryRun: Sendable {
    let console: Console
    let image: Image

    public init(console: Console, image: Image = PlaceholderImage.image) {
        self.console = console
        self.image = image
    }

    public func plan(_ file: ServicesFile, access: RegistryAccess, options: ProvisionOptions) async throws -> ExitStatus {
        try await access.withClient(options) { client in
            try await access.preflight(client)
            return try await plan(file, client: client, registry: access.registry, options: options)
        }
    }

    private func plan(_ file: ServicesFile, client: RegistryClient, registry: RegistryHost,
                      options: ProvisionOptions) async throws -> ExitStatus {
        let pusher = ImagePusher(client: client, image: image, force: options.force,
                                 sources: MountSources(fromHistory: nil))
        let jobs = file.services.enumerated().map { index, service in
            ProvisionJob(id: Int64(index + 1), seq: index + 1, service: service.name,
                         repository: service.repository, tags: service.tags)
        }
        let failures = FailureTally()
        let runner = JobRunner(concurrency: options.concurrency, retry: RetryPolicy(maxAttempts: options.maxAttempts))
        try await runner.run(jobs: AsyncJobs(jobs), attempt: { (job: ProvisionJob, _: AttemptInfo) -> [TagOutcome] in
            try await pusher.plan(job)
        }, events: { [console] (event: RunnerEvent<ProvisionJob, [TagOutcome]>) in
            switch event {
            case let .finished(job, .succeeded(outcomes, _)):
                console.line(Self.line("\(registry)/\(job.repository)", outcomes))
            case let .finished(job, .failed(error, _, _)):
                let failure = PushError.classify(error)
                failures.note(failure)
                console.line("cannot plan \(registry)/\(job.repository): \(failure.message)")
            default:
                break
            }
        })
        console.line("dry run: nothing was written to the registry or the audit log")
        return failures.count == 0 ? .success : .jobsFailed
    }

    static func line(_ name: String, _ outcomes: [TagOutcome]) -> String {
        outcomes.map { outcome in
            let what: String = switch outcome.action {
            case .planned where outcome.before != nil: "would overwrite (--force)"
            case .planned: "would push"
            case .skipped: "would skip (already the placeholder)"
            case .kept: "would keep (holds \(outcome.before.map { String($0.description.prefix(19)) } ?? "?"))"
            default: outcome.action.rawValue
            }
            return "\(what.padding(toLength: 26, withPad: " ", startingAt: 0)) \(name):\(outcome.tag)"
        }.joined(separator: "\n")
    }
}
