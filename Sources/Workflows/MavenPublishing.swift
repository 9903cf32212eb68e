import AuditStore
import Credentials
import Foundation
import HTTPTransport
import JobRunner
import Maven
import MavenPublish
import OCI
import Synchronization

/// `stevedore maven publish|verify`: one recorded run with a job per artifact version, on the same runner, rate
/// limiter, retries and audit log as image runs.
public struct MavenPublishing: Sendable {
    let log: any RunLog
    let context: WorkflowContext

    public init(log: any RunLog, context: WorkflowContext) {
        self.log = log
        self.context = context
    }

    /// Where the repository is and how to reach it.
    public struct Access: Sendable {
        public var url: String
        public var credentials: MavenCredentialLookup.Found?
        public var trust: TLSTrust

        public init(url: String, credentials: MavenCredentialLookup.Found?, trust: TLSTrust = .system) {
            self.url = url
            self.credentials = credentials
            self.trust = trust
        }

        /// The host's access for the shared transport (TLS trust, plain HTTP for loopback).
        func hostAccess() throws(WorkflowError) -> RegistryAccess {
            guard let parts = URLParts(url + "/"), let host = try? RegistryHost(parsing: parts.authority) else {
                throw .usage("repository url '\(url)' is not an http(s) url, e.g. https://maven.pkg.github.com/OWNER/REPO")
            }
            return RegistryAccess(registry: host, credentials: nil, plainHTTP: parts.scheme == "http", trust: trust)
        }
    }

    /// Publishes (or, with `verify`, checks read-only) every version of `plan`.
    public func run(_ plan: MavenPlan, access: Access, options: RunOptions, verify: Bool) async throws(WorkflowError) -> RunOutcome {
        let host = try access.hostAccess()
        do {
            return try await context.withTransport(host, options) { transport in
                let client: MavenRepositoryClient
                do { client = try MavenRepositoryClient(url: access.url, transport: transport, credentials: access.credentials?.credentials) } catch {
                    throw WorkflowError.usage("\(error)")
                }
                let jobs = try await self.jobs(plan, client: client)
                return try await self.record(plan, jobs, client: client, access: access, options: options, verify: verify)
            }
        } catch let error as WorkflowError {
            throw error
        } catch {
            throw Provisioner.workflowError(error)
        }
    }

    /// The jobs of the plan; a plain SNAPSHOT's next build number comes from the server's version-level metadata.
    private func jobs(_ plan: MavenPlan, client: MavenRepositoryClient) async throws(WorkflowError) -> [MavenJob] {
        var builds: [String: SnapshotVersion] = [:]
        let now = context.time.wallClock
        for version in plan.versions where version.snapshotNaming == .plain {
            let path = "\(version.gavPath)/maven-metadata.xml"
            let remote: SnapshotMetadata?
            do {
                remote = try await client.get(path).map { body throws in try SnapshotMetadata.parse(Data(body), source: client.address(path)) }
            } catch {
                throw .unavailable("\(client.address(path)): \(error)")
            }
            builds[version.description] = SnapshotVersion.next(baseVersion: version.version, remote: remote, at: now)
        }
        return plan.jobs { builds[$0.description] }
    }

    /// Records the run and its jobs, checks the repository answers with these credentials, then runs the jobs.
    private func record(_ plan: MavenPlan, _ jobs: [MavenJob], client: MavenRepositoryClient, access: Access,
                        options: RunOptions, verify: Bool) async throws(WorkflowError) -> RunOutcome {
        let environment = context.environment
        let parts = URLParts(access.url + "/")
        let authority = parts?.authority ?? access.url
        let path = parts?.pathAndQuery.dropFirst() ?? ""
        let run = NewRun(command: verify ? "maven-verify" : "maven-publish", commandLine: environment.commandLine,
                         toolVersion: RunEnvironment.toolVersion, host: environment.host, user: environment.user,
                         inputFile: plan.directory, registry: authority, namespace: path.isEmpty ? nil : String(path.dropLast()),
                         options: Self.options(options, access: access), startedAt: context.time.wallClock, pid: environment.pid)
        let runID = try await audited { try await log.beginRun(run) }
        let new = jobs.enumerated().map { index, job in
            NewJob(seq: index + 1, kind: .mavenArtifact, service: job.version.description, registry: authority,
                   repository: "\(path)\(job.version.artifactPath)", target: client.address(job.version.gavPath),
                   items: job.items, source: job.version.directory, sourceDigest: nil)
        }
        let ids = try await audited { try await log.insertJobs(run: runID, new) }
        let items = zip(ids, jobs).enumerated().map { index, pair in
            WorkItem(runID: runID, id: pair.0, seq: index + 1, service: pair.1.version.description,
                     target: client.address(pair.1.version.gavPath), payload: pair.1)
        }
        let handler = MavenKind()
        let recorder = RunRecorder(log: log, runID: runID, handler: handler, progress: context.progress,
                                   time: context.time, host: authority)
        let session = RunSession(jobs: items, recorder: recorder, handler: handler, options: options, context: context)
        context.progress.emit(.runStarted(total: items.count, bytes: jobs.reduce(0) { $0 + handler.bytes(of: $1) }))
        let outcome: RunOutcome
        do {
            if let first = jobs.first, let failure = await preflight(client, first) {
                await session.notAttempted(items, failure: failure)
                throw WorkflowError.unavailable(failure.message)
            }
            let publisher = MavenPublisher(client: client, time: context.time)
            let canaryStop = Mutex<JobFailure?>(nil)
            outcome = try await session.run({ job, _ in
                verify ? try await publisher.verify(job.payload) : try await publisher.publish(job.payload)
            }, stopMessage: { failure, _ in
                canaryStop.withLock { $0 = failure }
                return failure.message
            })
            // The first job was refused (credentials, or no write permission): the others were not attempted.
            if let stop = canaryStop.withLock({ $0 }) { throw WorkflowError.unavailable(stop.message) }
        } catch {
            throw await RunCloser(log: log, context: context).fail(runID, recorder: recorder, error)
        }
        return try await RunCloser(log: log, context: context).close(runID, outcome: outcome, recorder: recorder)
    }

    /// One GET of the first artifact's metadata with the credentials: unreachable, or credentials refused (401),
    /// stops the run before any job (exit 4). A 404 is fine: nothing is published yet.
    private func preflight(_ client: MavenRepositoryClient, _ job: MavenJob) async -> JobFailure? {
        do {
            _ = try await client.get("\(job.version.artifactPath)/maven-metadata.xml")
            return nil
        } catch {
            let failure = JobFailure.classify(error, now: context.time.wallClock)
            return Self.stopsTheRun(failure) ? failure : nil
        }
    }

    /// A failure that no job can get past (unreachable, credentials refused or without permission): exit 4.
    static func stopsTheRun(_ failure: JobFailure) -> Bool {
        [.authFailed, .denied, .network].contains(failure.failureClass)
    }

    static func options(_ options: RunOptions, access: Access) -> String {
        let object: [String: Any] = [
            "concurrency": options.concurrency, "max_attempts": options.maxAttempts,
            "authenticated": access.credentials != nil, "credentials": access.credentials?.source ?? "none",
            "tls": access.url.hasPrefix("http://") ? "none" : access.trust.name,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
