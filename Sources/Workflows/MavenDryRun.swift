import Foundation
import JobRunner
import MavenPublish

/// `maven publish --dry-run`: asks the server for each file's `.sha1` and prints what a publish would do (upload,
/// skip, conflict). Writes nothing to the repository and nothing to the audit log.
public struct MavenDryRun: Sendable {
    let context: WorkflowContext

    public init(context: WorkflowContext) {
        self.context = context
    }

    public func plan(_ plan: MavenPlan, access: MavenPublishing.Access, options: RunOptions) async throws(WorkflowError) -> RunOutcome {
        let progress = context.progress
        let host = try access.hostAccess()
        do {
            return try await context.withTransport(host, options) { transport in
                let client = try MavenRepositoryClient(url: access.url, transport: transport,
                                                       credentials: access.credentials?.credentials)
                let publisher = MavenPublisher(client: client, time: context.time)
                var conflicts = 0
                // A plain SNAPSHOT is shown under its local names: the build number is only taken by a real publish.
                for job in plan.jobs(snapshotBuild: { _ in nil }) {
                    let outcomes = try await publisher.plan(job)
                    conflicts += outcomes.filter { $0.action == .conflict }.count
                    progress.emit(.line(MavenKind().line(target: client.address(job.version.gavPath), output: outcomes,
                                                         attempts: 1)))
                }
                progress.emit(.line("dry run: nothing was written to the repository or the audit log"))
                return conflicts == 0 ? .succeeded : .jobsFailed
            }
        } catch let error as MavenPublishError {
            let failure = error.jobFailure(now: context.time.wallClock)
            throw MavenPublishing.stopsTheRun(failure) ? .unavailable(failure.message)
                : .usage(failure.message)
        } catch {
            throw Provisioner.workflowError(error)
        }
    }
}
