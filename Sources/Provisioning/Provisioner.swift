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

    public init(registry: RegistryHost, credentials: Credentials?, plainHTTP: Bool) {
        self.registry = registry
        self.credentials = credentials
        self.plainHTTP = plainHTTP
    }
}

/// Knobs of a provisioning run.
public struct ProvisionOptions: Sendable {
    public var concurrency = 8
    public var maxAttempts = 5
    public var force = false
    public var requestTimeout: Duration = .seconds(60)

    public init() {}
}

/// Runs `provision` and `verify`: records the run and its jobs, fans the jobs out, and reports.
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

    /// Pushes the image to every service's tags. Returns the exit status.
    public func provision(_ file: ServicesFile, access: RegistryAccess, options: ProvisionOptions) async throws -> ExitStatus {
        try await withSession(file, access: access, command: "provision", options: options) { session in
            let pusher = ImagePusher(client: session.client, image: image, force: options.force,
                                     sources: MountSources(fromHistory: try knownHolder(access.registry)))
            return try await session.run { job, _ in
                let meter = job.progress.startAttempt()
                return try await AttemptMeter.$current.withValue(meter) { try await pusher.push(job) }
            }
        }
    }

    /// Checks, read-only, that every service's tags exist; notes whether each holds the placeholder.
    public func verify(_ file: ServicesFile, access: RegistryAccess, options: ProvisionOptions) async throws -> ExitStatus {
        try await withSession(file, access: access, command: "verify", options: options) { session in
            let verifier = ImageVerifier(client: session.client, image: image)
            return try await session.run { job, _ in
                let meter = job.progress.startAttempt()
                return try await AttemptMeter.$current.withValue(meter) { try await verifier.verify(job) }
            }
        }
    }

    private func knownHolder(_ registry: RegistryHost) throws -> RepositoryName? {
        guard let name = try store.knownHolder(registry: registry.description, digest: image.manifestDigest.description)
        else { return nil }
        return try? RepositoryName(validating: name)
    }

    private func withSession(_ file: ServicesFile, access: RegistryAccess, command: String, options: ProvisionOptions,
                             _ body: (RunSession) async throws -> ExitStatus) async throws -> ExitStatus {
        let runID = try store.beginRun(NewRun(
            command: command, commandLine: environment.commandLine, toolVersion: RunEnvironment.toolVersion,
            host: environment.host, user: environment.user, inputFile: file.path,
            inputSHA256: file.sha256.description, registry: access.registry.description,
            namespace: file.namespace, options: Self.optionsJSON(options, access: access),
            startedAt: Date(), pid: environment.pid))
        let ids = try store.insertJobs(run: runID, file.services.enumerated().map { index, service in
            NewJob(seq: index + 1, service: service.name, registry: access.registry.description,
                   repository: service.repository.value, tags: service.tags.map(\.value))
        })
        let jobs = zip(ids, file.services.enumerated()).map { id, entry in
            ProvisionJob(id: id, seq: entry.offset + 1, service: entry.element.name,
                         repository: entry.element.repository, tags: entry.element.tags)
        }
        let recorder = RunRecorder(store: store, console: console, registry: access.registry,
                                   expectedDigest: image.manifestDigest)
        let status: ExitStatus
        do {
            status = try await access.withClient(options) { client in
                let session = RunSession(runID: runID, jobs: jobs, client: client, recorder: recorder, options: options)
                try await session.preflight(access)
                return try await body(session)
            }
        } catch {
            try? store.finishRun(runID, status: .failed, at: Date())
            throw error
        }
        let runStatus: RunStatus = status == .success ? .succeeded : status == .interrupted ? .interrupted : .failed
        try store.finishRun(runID, status: runStatus, at: Date())
        if let error = recorder.firstStoreError {
            throw CommandError("\(error)", status: .auditDatabase)
        }
        try printSummary(runID)
        return status
    }

    private func printSummary(_ runID: RunID) throws {
        guard let summary = try store.summary(run: runID) else { return }
        console.line(SummaryText.oneLine(summary) + "; audit log: \(store.path)")
    }

    static func optionsJSON(_ options: ProvisionOptions, access: RegistryAccess) -> String {
        #"{"concurrency":\#(options.concurrency),"max_attempts":\#(options.maxAttempts),"force":\#(options.force),"# +
            #""plain_http":\#(access.plainHTTP),"authenticated":\#(access.credentials != nil)}"#
    }
}
