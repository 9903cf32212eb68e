import AuditStore
import Foundation
import ImageSources
import JobRunner
import OCIRegistry

/// Where to push and as whom.
public struct RegistryAccess: Sendable {
    public var registry: RegistryHost
    public var credentials: Credentials?
    public var plainHTTP: Bool
    public var trust: TLSTrust

    public init(registry: RegistryHost, credentials: Credentials?, plainHTTP: Bool, trust: TLSTrust = .system) {
        self.registry = registry
        self.credentials = credentials
        self.plainHTTP = plainHTTP
        self.trust = trust
    }
}

/// Knobs of a provisioning run.
public struct ProvisionOptions: Sendable {
    public var concurrency = 8
    public var maxAttempts = 5
    public var force = false
    public var requestTimeout: Duration = .seconds(60)
    /// No job starts, and no retry is scheduled, after this long.
    public var deadline: Duration?
    /// Requests per second to the registry (nil: the host's default; 0: unlimited).
    public var rate: Double?

    public init() {}
}

/// Runs `provision`, `verify`, `retry` and `resume`: records the run and its jobs, fans the jobs out,
/// and reports.
public struct Provisioner: Sendable {
    let store: AuditStore
    let console: Console
    let environment: RunEnvironment
    let image: Image

    public init(store: AuditStore, console: Console, environment: RunEnvironment, image: Image = PlaceholderImage.image) {
        self.store = store
        self.console = console
        self.environment = environment
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

    /// Pushes the image to every service's tags. Returns the exit status.
    public func provision(_ file: ServicesFile, access: RegistryAccess, options: ProvisionOptions) async throws -> ExitStatus {
        let plan = Plan(command: "provision", inputFile: file.path, inputSHA256: file.sha256.description,
                        namespace: file.namespace, jobs: Self.newJobs(file, registry: access.registry))
        let (runID, jobs) = try start(plan, access: access, options: options)
        return try await execute(runID, jobs, access: access, options: options, push: true)
    }

    /// Checks, read-only, that every service's tags exist; notes whether each holds the placeholder.
    public func verify(_ file: ServicesFile, access: RegistryAccess, options: ProvisionOptions) async throws -> ExitStatus {
        let plan = Plan(command: "verify", inputFile: file.path, inputSHA256: file.sha256.description,
                        namespace: file.namespace, jobs: Self.newJobs(file, registry: access.registry))
        let (runID, jobs) = try start(plan, access: access, options: options)
        return try await execute(runID, jobs, access: access, options: options, push: false)
    }

    /// A new run, linked to `original`, with only the jobs of `original` that failed (optionally only
    /// those of the given classes or services). Jobs that succeeded are never touched.
    public func retry(_ original: RunRow, classes: Set<String>, services: Set<String>,
                      access: RegistryAccess, options: ProvisionOptions) async throws -> ExitStatus {
        let failed = try store.jobs(run: original.id).filter { job in
            job.status == .failed && (classes.isEmpty || classes.contains(job.errorClass ?? ""))
                && (services.isEmpty || services.contains(job.service))
        }
        guard !failed.isEmpty else {
            console.line("nothing to retry: run \(original.id) has no failed jobs"
                         + (classes.isEmpty && services.isEmpty ? "" : " matching the filters"))
            return .success
        }
        let plan = Plan(command: "retry", inputFile: original.inputFile, inputSHA256: original.inputSHA256,
                        namespace: original.namespace, parentRunID: original.id,
                        jobs: failed.enumerated().map { index, job in
                            NewJob(seq: index + 1, service: job.service, registry: access.registry.description,
                                   repository: job.repository, tags: job.tags)
                        })
        let (runID, jobs) = try start(plan, access: access, options: options)
        return try await execute(runID, jobs, access: access, options: options, push: true)
    }

    /// Finishes a run that died or was interrupted: its unfinished jobs (pending, running, cancelled) are
    /// reconciled with the registry (a tag already holding the image counts as done) and completed.
    public func resume(_ run: RunRow, access: RegistryAccess, options: ProvisionOptions) async throws -> ExitStatus {
        let unfinished = try store.jobs(run: run.id).filter { [.pending, .running, .cancelled].contains($0.status) }
        try store.reopenRun(run.id, commandLine: environment.commandLine, pid: environment.pid, at: Date())
        let jobs = try unfinished.map { row in
            ProvisionJob(id: row.id, seq: row.seq, service: row.service,
                         repository: try RepositoryName(validating: row.repository),
                         tags: try row.tags.map { try Tag(validating: $0) }, priorAttempts: row.attempts)
        }
        console.line("resuming run \(run.id): \(jobs.count) unfinished jobs")
        return try await execute(run.id, jobs, access: access, options: options, push: run.command != "verify")
    }

    private static func newJobs(_ file: ServicesFile, registry: RegistryHost) -> [NewJob] {
        file.services.enumerated().map { index, service in
            NewJob(seq: index + 1, service: service.name, registry: registry.description,
                   repository: service.repository.value, tags: service.tags.map(\.value))
        }
    }

    /// Records the run and all its jobs (pending) before anything is sent.
    private func start(_ plan: Plan, access: RegistryAccess, options: ProvisionOptions) throws -> (RunID, [ProvisionJob]) {
        let runID = try store.beginRun(NewRun(
            command: plan.command, commandLine: environment.commandLine, toolVersion: RunEnvironment.toolVersion,
            host: environment.host, user: environment.user, inputFile: plan.inputFile, inputSHA256: plan.inputSHA256,
            registry: access.registry.description, namespace: plan.namespace,
            options: Self.optionsJSON(options, access: access), parentRunID: plan.parentRunID,
            startedAt: Date(), pid: environment.pid))
        let ids = try store.insertJobs(run: runID, plan.jobs)
        let jobs = try zip(ids, plan.jobs).map { id, job in
            ProvisionJob(id: id, seq: job.seq, service: job.service,
                         repository: try RepositoryName(validating: job.repository),
                         tags: try job.tags.map { try Tag(validating: $0) })
        }
        return (runID, jobs)
    }

    /// Runs the jobs of a recorded run and closes the run with a status derived from all its jobs.
    private func execute(_ runID: RunID, _ jobs: [ProvisionJob], access: RegistryAccess, options: ProvisionOptions,
                         push: Bool) async throws -> ExitStatus {
        let recorder = RunRecorder(store: store, runID: runID, console: console, registry: access.registry,
                                   expectedDigest: image.manifestDigest)
        let sessionStatus: ExitStatus
        // On a terminal: the live status line, until the run is over (the defer covers the paths that throw).
        console.beginRun(total: jobs.count)
        defer { console.endRun() }
        do {
            sessionStatus = try await access.withClient(options, onPause: recorder.paused) { client in
                let session = RunSession(access: access, runID: runID, jobs: jobs, client: client, recorder: recorder,
                                         options: options)
                try await session.preflight()
                if push {
                    let pusher = ImagePusher(client: client, image: image, force: options.force,
                                             sources: MountSources(fromHistory: try knownHolder(access.registry)))
                    return try await session.run { job, _ in try await pusher.push(job) }
                }
                let verifier = ImageVerifier(client: client, image: image)
                return try await session.run { job, _ in try await verifier.verify(job) }
            }
        } catch {
            try? store.finishRun(runID, status: .failed, at: Date())
            throw error
        }
        console.endRun()  // the status line gives way to what follows: warnings and the summary
        // Jobs still pending here were stopped by an interrupt or the deadline.
        let stopped = try store.cancelUnfinishedJobs(run: runID, at: Date())
        if stopped > 0 && sessionStatus != .interrupted {
            console.error("error: --deadline reached: \(stopped) jobs were not finished; finish them with stevedore resume \(runID)")
        }
        // Only the job counts decide the run's status; the full summary is read once the run is closed.
        let summary = try store.summary(run: runID, details: false)
        let failed = (summary?.jobsFailed ?? 0) > 0 || (sessionStatus != .interrupted && (summary?.jobsCancelled ?? 0) > 0)
        let runStatus: RunStatus = sessionStatus == .interrupted ? .interrupted : failed ? .failed : .succeeded
        try store.finishRun(runID, status: runStatus, at: Date())
        if let error = recorder.firstStoreError {
            throw CommandError("error: \(error)", status: .auditDatabase)
        }
        if let summary = try store.summary(run: runID) {
            console.line(SummaryText.oneLine(summary) + "; audit log: \(store.path)")
            if let json = try? JSONEncoder().encode(summary),
               let fields = try? JSONSerialization.jsonObject(with: json) as? [String: Any] {
                console.event("run_finished", fields.merging(["audit_db": store.path]) { old, _ in old })
            }
        }
        return sessionStatus == .interrupted ? .interrupted : failed ? .jobsFailed : .success
    }

    private func knownHolder(_ registry: RegistryHost) throws -> RepositoryName? {
        guard let name = try store.knownHolder(registry: registry.description, digest: image.manifestDigest.description)
        else { return nil }
        return try? RepositoryName(validating: name)
    }

    static func optionsJSON(_ options: ProvisionOptions, access: RegistryAccess) -> String {
        #"{"concurrency":\#(options.concurrency),"max_attempts":\#(options.maxAttempts),"force":\#(options.force),"# +
            #""plain_http":\#(access.plainHTTP),"tls":"\#(access.plainHTTP ? "none" : access.trust.name)","# +
            #""authenticated":\#(access.credentials != nil)}"#
    }
}
