import AuditStore
import Foundation
import ImagePush
import ImageSources
import JobRunner
import OCI

/// How a release run moves its tags, recorded with the run (`runs.options.release`) so `retry` and `resume`
/// continue it the same way.
public struct ReleaseSettings: Sendable, Codable, Equatable {
    public enum MutableTagMoment: String, Sendable, Codable, CaseIterable {
        /// Once every service's version tag is in the registry (a half-failed release never moves them).
        case afterAll = "after-all"
        /// With each service's version tag.
        case each
        /// Never.
        case never
    }

    public var version: String
    /// The tags that move to the release (`latest` unless `--also-tag`).
    public var mutableTags: [String]
    public var moment: MutableTagMoment

    public init(version: String, mutableTags: [String], moment: MutableTagMoment) {
        self.version = version
        self.mutableTags = mutableTags
        self.moment = moment
    }

    enum CodingKeys: String, CodingKey { case version, mutableTags = "mutable_tags", moment = "latest" }
}

/// One job of an image run before it is recorded: what the audit log gets, what the pusher gets, and its phase.
struct PlannedImageJob: Sendable {
    var new: NewJob
    var image: SourceImage
    var policy: TagPolicy
    var mutableTags: Set<String>
    /// Jobs of phase 1 run only when every job of phase 0 succeeded (a release's mutable tags).
    var phase: Int
}

/// Runs the recorded jobs of an image run, phase by phase, and closes the run.
struct ImageRunExecutor: Sendable {
    let log: any RunLog
    let context: WorkflowContext

    /// Runs `phases` (each a list of jobs) against `access`; `push: false` checks instead of pushing.
    /// `holdLaterPhases`: a job of phase 0 already failed (in an earlier process), so later phases are held.
    func execute(_ runID: RunID, phases: [[WorkItem<ImageJob>]], access: RegistryAccess, options: RunOptions,
                 push: Bool, holdLaterPhases: Bool = false) async throws(WorkflowError) -> RunOutcome {
        let handler = ImageKind()
        let recorder = RunRecorder(log: log, runID: runID, handler: handler, progress: context.progress,
                                   time: context.time, host: access.registry.description)
        let all = phases.flatMap { $0 }
        let progress = context.progress
        progress.emit(.runStarted(total: all.count, bytes: push ? Self.distinctBytes(all) : 0))
        let outcome: RunOutcome
        var shared: SharedQueue?
        do {
            shared = try await SharedQueue.join(log, role: .starter, run: runID, options: options, context: context)
            outcome = try await context.withClient(access, options, onPause: recorder.paused) { [shared] client in
                let session = RunSession(jobs: all, recorder: recorder, handler: handler, options: options, context: context)
                if let failure = await context.ping(client) {
                    await session.notAttempted(all, failure: failure)
                    throw WorkflowError.unavailable(WorkflowContext.preflightMessage(failure, access))
                }
                let body = self.body(client, access: access, options: options, push: push, jobs: all)
                let stop: @Sendable (JobFailure, WorkItem<ImageJob>) -> String = { failure, first in
                    Provisioner.canaryMessage(failure, access: access, target: first.target, push: push)
                }
                var result = RunOutcome.succeeded
                for (index, jobs) in phases.enumerated() where !jobs.isEmpty {
                    if index > 0, result != .succeeded || holdLaterPhases {
                        if result == .interrupted { break }
                        await session.notAttempted(jobs, failure: JobFailure(
                            failureClass: .held, message: "held back until every version tag of the release is pushed; "
                                + "stevedore retry completes them and then moves these tags"))
                        continue
                    }
                    let phase = RunSession(jobs: jobs, recorder: recorder, handler: handler, options: options,
                                           context: context, shared: shared)
                    let phaseResult = try await phase.run(body, canary: index == 0, stopMessage: stop)
                    result = result == .succeeded ? phaseResult : result
                }
                return holdLaterPhases && result == .succeeded ? .jobsFailed : result
            }
        } catch {
            let failure = await RunCloser(log: log, context: context).fail(runID, recorder: recorder, error)
            await shared?.leave()
            throw failure
        }
        do {
            let closed = try await RunCloser(log: log, context: context).close(runID, outcome: outcome, recorder: recorder)
            await shared?.leave()
            return closed
        } catch {
            await shared?.leave()
            throw error
        }
    }

    /// A worker's part of run `runID`, started elsewhere: the jobs it claims (`items` by id: the run's unfinished
    /// jobs) pushed, or checked, with this process's client for `access`, until none of the run is pending.
    func join(_ runID: RunID, shared: SharedQueue, items: [JobID: WorkItem<ImageJob>], access: RegistryAccess,
              options: RunOptions, push: Bool) async throws(WorkflowError) {
        let handler = ImageKind()
        let recorder = RunRecorder(log: log, runID: runID, handler: handler, progress: context.progress,
                                   time: context.time, host: access.registry.description)
        do {
            try await context.withClient(access, options, onPause: recorder.paused) { client in
                try await context.preflight(client, access)
                let body = self.body(client, access: access, options: options, push: push, jobs: Array(items.values))
                let session = RunSession(jobs: [], recorder: recorder, handler: handler, options: options,
                                         context: context, shared: shared)
                try await session.join(runID, body) { claim in items[claim.jobID]?.claimed(claim) }
            }
        } catch {
            await recorder.drain()
            throw Provisioner.workflowError(error)
        }
        if let error = await recorder.firstStoreError() { throw .audit(error) }
    }

    /// What an attempt of an image job does: push it (blobs through one coordinator per run and registry, which knows
    /// the log's mount sources) or check it.
    private func body(_ client: RegistryClient, access: RegistryAccess, options: RunOptions, push: Bool,
                      jobs: [WorkItem<ImageJob>]) -> @Sendable (WorkItem<ImageJob>, AttemptInfo) async throws -> [TagOutcome] {
        let progress = context.progress
        let blobs = BlobCoordinator(history: Self.history(log, registry: access.registry.description, jobs: jobs))
        let pusher = ImagePusher(client: client, force: options.force, blobs: blobs, mode: options.uploadMode,
                                 time: context.time, onBytes: { progress.emit(.bytesSent($0)) })
        let verifier = ImageVerifier(client: client, depth: options.verifyDepth)
        return { job, _ in push ? try await pusher.push(job.payload) : try await verifier.verify(job.payload) }
    }

    /// Where the audit log says a blob is: the newest blob action on it, else a repository holding an image of this
    /// run that contains it (logs from before blob actions were recorded).
    static func history(_ log: any RunLog, registry: String,
                        jobs: [WorkItem<ImageJob>]) -> @Sendable (Digest) async -> RepositoryName? {
        var manifests: [Digest: Digest] = [:]
        for job in jobs {
            for blob in job.payload.image.loaded?.artifact.blobs ?? [] where manifests[blob.digest] == nil {
                manifests[blob.digest] = job.payload.digest
            }
        }
        return { [manifests] digest in
            var name = (try? await log.blobHolder(registry: registry, digest: digest.description)) ?? nil
            if name == nil, let manifest = manifests[digest] {
                name = (try? await log.knownHolder(registry: registry, digest: manifest.description)) ?? nil
            }
            return name.flatMap { try? RepositoryName(validating: $0) }
        }
    }

    /// Blob bytes a run may upload: every distinct blob once (of the images known before the run).
    static func distinctBytes(_ jobs: [WorkItem<ImageJob>]) -> Int64 {
        var seen: Set<Digest> = []
        var total: Int64 = 0
        for job in jobs {
            for blob in job.payload.image.loaded?.artifact.blobs ?? [] where seen.insert(blob.digest).inserted {
                total += blob.size
            }
        }
        return total
    }
}
