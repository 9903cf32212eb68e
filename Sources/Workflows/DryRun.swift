import Foundation
import ImagePush
import ImageSources
import JobRunner
import OCI

/// `provision --dry-run`: reads what every tag holds and prints what a run would do.
/// Writes nothing to the registry and nothing to the audit log.
public struct DryRun: Sendable {
    let context: WorkflowContext
    let catalog: ImageCatalog

    public init(context: WorkflowContext, catalog: ImageCatalog = ImageCatalog()) {
        self.context = context
        self.catalog = catalog
    }

    /// The plan of `provision`, or with `release`, of `push` (its version tag immutable, its mutable tags moving).
    public func plan(_ file: ServicesFile, release: ReleaseSettings? = nil, access: RegistryAccess,
                     options: RunOptions) async throws(WorkflowError) -> RunOutcome {
        let progress = context.progress, time = context.time
        let images: [ImageCatalog.Entry]
        do { images = try await catalog.load(file) } catch { throw .input(error) }
        do {
            return try await context.withClient(access, options) { client in
                try await context.preflight(client, access)
                let pusher = ImagePusher(client: client, force: options.force, blobs: BlobCoordinator(), time: time)
                let jobs = zip(file.services, images).map { service, image in
                    guard let release else {
                        return ImageJob(repository: service.repository, tags: service.tags, image: image.image)
                    }
                    let tags = ([release.version] + release.mutableTags).compactMap { try? Tag(validating: $0) }
                    return ImageJob(repository: service.repository, tags: tags, image: image.image, policy: .immutable,
                                    mutableTags: Set(release.mutableTags))
                }
                let failures = FailureTally()
                let runner = JobRunner(concurrency: options.concurrency,
                                       retry: RetryPolicy(maxAttempts: options.maxAttempts), time: time)
                try await runner.run(jobs: AsyncJobs(jobs), attempt: { (job: ImageJob, _: AttemptInfo) -> [TagOutcome] in
                    try await pusher.plan(job)
                }, events: { (event: RunnerEvent<ImageJob, [TagOutcome]>) in
                    switch event {
                    case let .finished(job, .succeeded(outcomes, _)):
                        progress.emit(.line(Self.line("\(access.registry)/\(job.repository)", outcomes)))
                    case let .finished(job, .failed(error, _, _)):
                        let failure = JobFailure.classify(error, now: time.wallClock)
                        failures.note(failure)
                        progress.emit(.line("cannot plan \(access.registry)/\(job.repository): \(failure.message)"))
                    default:
                        break
                    }
                })
                progress.emit(.line("dry run: nothing was written to the registry or the audit log"))
                return failures.count == 0 ? .succeeded : .jobsFailed
            }
        } catch {
            throw Provisioner.workflowError(error)
        }
    }

    static func line(_ name: String, _ outcomes: [TagOutcome]) -> String {
        outcomes.map { outcome in
            let what: String = switch outcome.action {
            case .planned where outcome.before != nil: "would overwrite (--force)"
            case .planned: "would push"
            case .skipped: "would skip (already the placeholder)"
            case .planned where outcome.before != nil: "would move"
            case .kept: "would keep (holds \(outcome.before.map { String($0.description.prefix(19)) } ?? "?"))"
            default: outcome.action.rawValue
            }
            // Padded, never cut: the longest label (`would skip (already the placeholder)`) is 36 characters.
            return "\(what.padding(toLength: max(26, what.count), withPad: " ", startingAt: 0)) \(name):\(outcome.tag)"
        }.joined(separator: "\n")
    }
}
