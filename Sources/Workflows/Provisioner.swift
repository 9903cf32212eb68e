import AuditStore
import Foundation
import ImagePush
import ImageSources
import JobRunner
import OCI

/// Runs `provision`, `verify`, `retry` and `resume` for images: records the run and its jobs, fans the jobs out,
/// and closes the run with a status derived from all its jobs.
public struct Provisioner: Sendable {
    let log: any RunLog
    let context: WorkflowContext
    let image: Image

    public init(log: any RunLog, context: WorkflowContext, image: Image = PlaceholderImage.image) {
        self.log = log
        self.context = context
        self.image = image
    }

    /// What a run works on, however it was chosen.
    struct Plan {
        var command: String
        var inputFile: String?
        var inputSHA256: String?
        var namespace: String?
        var parentRunID: RunID?
        var jobs: [NewJob]
    }

    /// Pushes the image to every service's tags.
    public func provision(_ file: ServicesFile, access: RegistryAccess, options: RunOptions) async throws(WorkflowError) -> RunOutcome {
        let plan = Plan(command: "provision", inputFile: file.path, inputSHA256: file.sha256.description,
                        namespace: file.namespace, jobs: Self.newJobs(file, registry: access.registry))
        let (runID, jobs) = try await start(plan, access: access, options: options)
        return try await execute(runID, jobs, access: access, options: options, push: true)
    }

    /// Checks, read-only, that every service's tags exist; notes whether each holds the image.
    public func verify(_ file: ServicesFile, access: RegistryAccess, options: RunOptions) async throws(WorkflowError) -> RunOutcome {
        let plan = Plan(command: "verify", inputFile: file.path, inputSHA256: file.sha256.description,
                        namespace: file.namespace, jobs: Self.newJobs(file, registry: access.registry))
        let (runID, jobs) = try await start(plan, access: access, options: options)
        return try await execute(runID, jobs, access: access, options: options, push: false)
    }

    /// A new run, linked to `original`, with only the jobs of `original` that failed (optionally only those of the
    /// given classes or services). Jobs that succeeded are never touched.
    public func retry(_ original: RunRow, classes: Set<String>, services: Set<String>, access: RegistryAccess,
                      options: RunOptions) async throws(WorkflowError) -> RunOutcome {
        let failed = try await audited { try await log.jobs(run: original.id) }.filter { job in
            job.status == .failed && (classes.isEmpty || classes.contains(job.errorClass ?? ""))
                && (services.isEmpty || services.contains(job.service))
        }
        guard !failed.isEmpty else {
            context.progress.emit(.line("nothing to retry: run \(original.id) has no failed jobs"
                                        + (classes.isEmpty && services.isEmpty ? "" : " matching the filters")))
            return .succeeded
        }
        let plan = Plan(command: "retry", inputFile: original.inputFile, inputSHA256: original.inputSHA256,
                        namespace: original.namespace, parentRunID: original.id,
                        jobs: failed.enumerated().map { index, job in
                            NewJob(seq: index + 1, service: job.service, registry: access.registry.description,
                                   repository: job.repository, items: job.items)
                        })
        let (runID, jobs) = try await start(plan, access: access, options: options)
        return try await execute(runID, jobs, access: access, options: options, push: true)
    }

    /// Finishes a run that died or was interrupted: its unfinished jobs (pending, running, cancelled) are reconciled
    /// with the registry (a tag already holding the image counts as done) and completed in the same run.
    public func resume(_ run: RunRow, access: RegistryAccess, options: RunOptions) async throws(WorkflowError) -> RunOutcome {
        let unfinished = try await audited { try await log.jobs(run: run.id) }
            .filter { [.pending, .running, .cancelled].contains($0.status) }
        let environment = context.environment
        try await audited {
            try await log.reopenRun(run.id, commandLine: environment.commandLine, pid: environment.pid,
                                    at: context.time.wallClock)
        }
        let jobs = try unfinished.map { row throws(WorkflowError) in
            try workItem(runID: run.id, id: row.id, seq: row.seq, service: row.service, registry: access.registry,
                         repository: row.repository, tags: row.items, priorAttempts: row.attempts)
        }
        context.progress.emit(.line("resuming run \(run.id): \(jobs.count) unfinished jobs"))
        return try await execute(run.id, jobs, access: access, options: options, push: run.command != "verify")
    }

    private static func newJobs(_ file: ServicesFile, registry: RegistryHost) -> [NewJob] {
        file.services.enumerated().map { index, service in
            NewJob(seq: index + 1, service: service.name, registry: registry.description,
                   repository: service.repository.value, items: service.tags.map(\.value))
        }
    }

    private func workItem(runID: RunID, id: JobID, seq: Int, service: String, registry: RegistryHost, repository: String,
                          tags: [String], priorAttempts: Int = 0) throws(WorkflowError) -> WorkItem<ImageJob> {
        do {
            let name = try RepositoryName(validating: repository)
            let job = ImageJob(repository: name, tags: try tags.map { text throws(ReferenceError) in try Tag(validating: text) })
            return WorkItem(runID: runID, id: id, seq: seq, service: service, target: "\(registry)/\(name)",
                            priorAttempts: priorAttempts, payload: job)
        } catch {
            throw .usage("the audit log names an invalid job (\(error.message)); it cannot be continued")
        }
    }

    /// Records the run and all its jobs (pending) before anything is sent.
    private func start(_ plan: Plan, access: RegistryAccess, options: RunOptions) async throws(WorkflowError)
        -> (RunID, [WorkItem<ImageJob>]) {
        let environment = context.environment
        let run = NewRun(command: plan.command, commandLine: environment.commandLine, toolVersion: RunEnvironment.toolVersion,
                         host: environment.host, user: environment.user, inputFile: plan.inputFile,
                         inputSHA256: plan.inputSHA256, registry: access.registry.description, namespace: plan.namespace,
                         options: Self.optionsJSON(options, access: access), parentRunID: plan.parentRunID,
                         startedAt: context.time.wallClock, pid: environment.pid)
        let runID = try await audited { try await log.beginRun(run) }
        let ids = try await audited { try await log.insertJobs(run: runID, plan.jobs) }
        let jobs = try zip(ids, plan.jobs).map { id, job throws(WorkflowError) in
            try workItem(runID: runID, id: id, seq: job.seq, service: job.service, registry: access.registry,
                         repository: job.repository, tags: job.items)
        }
        return (runID, jobs)
    }

    /// Runs the jobs of a recorded run and closes the run with a status derived from all its jobs.
    private func execute(_ runID: RunID, _ jobs: [WorkItem<ImageJob>], access: RegistryAccess, options: RunOptions,
                         push: Bool) async throws(WorkflowError) -> RunOutcome {
        let handler = ImageKind(expected: image.manifestDigest)
        let recorder = RunRecorder(log: log, runID: runID, handler: handler, progress: context.progress,
                                   time: context.time, host: access.registry.description)
        let closer = RunCloser(log: log, context: context)
        context.progress.emit(.runStarted(total: jobs.count))
        let outcome: RunOutcome
        do {
            let image = self.image, holder = try await knownHolder(access.registry)
            outcome = try await context.withClient(access, options, onPause: recorder.paused) { client in
                let session = RunSession(jobs: jobs, recorder: recorder, handler: handler, options: options, context: context)
                if let failure = await context.ping(client) {
                    await session.notAttempted(jobs, failure: failure)
                    throw WorkflowError.unavailable(WorkflowContext.preflightMessage(failure, access))
                }
                let stop: @Sendable (JobFailure, WorkItem<ImageJob>) -> String = { failure, first in
                    Self.canaryMessage(failure, access: access, target: first.target, push: push)
                }
                if push {
                    let pusher = ImagePusher(client: client, image: image, force: options.force,
                                             sources: MountSources(fromHistory: holder))
                    return try await session.run({ job, _ in try await pusher.push(job.payload) }, stopMessage: stop)
                }
                let verifier = ImageVerifier(client: client, image: image)
                return try await session.run({ job, _ in try await verifier.verify(job.payload) }, stopMessage: stop)
            }
        } catch {
            await recorder.drain()
            try? await log.finishRun(runID, status: .failed, at: context.time.wallClock)
            throw Self.workflowError(error)
        }
        await recorder.drain()
        return try await closer.close(runID, outcome: outcome, recorder: { await recorder.firstStoreError() })
    }

    private func knownHolder(_ registry: RegistryHost) async throws(WorkflowError) -> RepositoryName? {
        let digest = image.manifestDigest.description
        guard let name = try await audited({ try await log.knownHolder(registry: registry.description, digest: digest) })
        else { return nil }
        return try? RepositoryName(validating: name)
    }

    static func optionsJSON(_ options: RunOptions, access: RegistryAccess) -> String {
        #"{"concurrency":\#(options.concurrency),"max_attempts":\#(options.maxAttempts),"force":\#(options.force),"# +
            #""plain_http":\#(access.plainHTTP),"tls":"\#(access.plainHTTP ? "none" : access.trust.name)","# +
            #""authenticated":\#(access.credentials != nil)}"#
    }

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
