import AuditStore
import Foundation
import ImagePush
import ImageSources
import JobRunner
import OCI

/// Runs the image workflows — `provision`, `push` (a release), `verify`, `retry`, `resume` — on one
/// ``ImageRunExecutor``: records the run and its jobs before anything is sent, then pushes or checks phase by phase.
public struct Provisioner: Sendable {
    let log: any RunLog
    let context: WorkflowContext
    let catalog: ImageCatalog

    public init(log: any RunLog, context: WorkflowContext, catalog: ImageCatalog = ImageCatalog()) {
        self.log = log
        self.context = context
        self.catalog = catalog
    }

    /// What a run works on, however it was chosen.
    struct Plan {
        var command: String
        var inputFile: String?
        var inputSHA256: String?
        var namespace: String?
        var parentRunID: RunID?
        var release: ReleaseSettings?
        var jobs: [PlannedImageJob]
    }

    /// Pushes each service's image (its `image:`, else the placeholder) to its tags; a tag holding another image is
    /// kept unless `--force`.
    public func provision(_ file: ServicesFile, access: RegistryAccess, options: RunOptions) async throws(WorkflowError) -> RunOutcome {
        let images = try await loadImages(file)
        let jobs = zip(file.services, images).enumerated().map { index, pair in
            PlannedImageJob(new: Self.newJob(index + 1, pair.0, access, tags: pair.0.tags.map(\.value), source: pair.1),
                            image: pair.1.image, policy: .placeholder, mutableTags: [], phase: 0)
        }
        return try await start(Plan(command: "provision", inputFile: file.path, inputSHA256: file.sha256.description,
                                    namespace: file.namespace, jobs: jobs), access: access, options: options, push: true)
    }

    /// Checks, read-only, that every service's tags exist; notes whether each holds its image. With a release
    /// `version`, checks that tag instead of the file's.
    public func verify(_ file: ServicesFile, version: String? = nil, access: RegistryAccess,
                       options: RunOptions) async throws(WorkflowError) -> RunOutcome {
        let images = try await loadImages(file)
        let jobs = zip(file.services, images).enumerated().map { index, pair in
            PlannedImageJob(new: Self.newJob(index + 1, pair.0, access, tags: version.map { [$0] } ?? pair.0.tags.map(\.value),
                                             source: pair.1),
                            image: pair.1.image, policy: .placeholder, mutableTags: [], phase: 0)
        }
        return try await start(Plan(command: "verify", inputFile: file.path, inputSHA256: file.sha256.description,
                                    namespace: file.namespace, jobs: jobs), access: access, options: options, push: false)
    }

    /// A release: every service's image to `:VERSION` (immutable), and the mutable tags moved as `release.moment`
    /// says (after all version tags by default, so a half-failed release never moves `latest`).
    public func release(_ file: ServicesFile, _ release: ReleaseSettings, access: RegistryAccess,
                        options: RunOptions) async throws(WorkflowError) -> RunOutcome {
        let images = try await loadImages(file)
        var jobs: [PlannedImageJob] = []
        let mutable = Set(release.mutableTags)
        for (service, image) in zip(file.services, images) {
            let versionTags = release.moment == .each ? [release.version] + release.mutableTags : [release.version]
            jobs.append(PlannedImageJob(new: Self.newJob(jobs.count + 1, service, access, tags: versionTags, source: image),
                                        image: image.image, policy: .immutable,
                                        mutableTags: release.moment == .each ? mutable : [], phase: 0))
        }
        if release.moment == .afterAll && !mutable.isEmpty {
            for (service, image) in zip(file.services, images) {
                jobs.append(PlannedImageJob(new: Self.newJob(jobs.count + 1, service, access, tags: release.mutableTags,
                                                             source: image),
                                            image: image.image, policy: .mutable, mutableTags: mutable, phase: 1))
            }
        }
        return try await start(Plan(command: "push", inputFile: file.path, inputSHA256: file.sha256.description,
                                    namespace: file.namespace, release: release, jobs: jobs),
                               access: access, options: options, push: true)
    }

    /// A new run, linked to `original`, with only its failed jobs (optionally of the given classes or services),
    /// in the original's phases. Jobs that succeeded are never touched.
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
        let release = RecordedOptions.release(original.options)
        let again = continuing(original)
        var jobs: [PlannedImageJob] = []
        for job in failed {
            var planned = try await again.recorded(job, release: release, command: original.command)
            planned.new.seq = jobs.count + 1
            planned.new.registry = access.registry.description
            planned.new.target = "\(access.registry)/\(job.repository)"
            jobs.append(planned)
        }
        return try await again.start(Plan(command: "retry", inputFile: original.inputFile,
                                          inputSHA256: original.inputSHA256, namespace: original.namespace,
                                          parentRunID: original.id, release: release, jobs: jobs),
                                     access: access, options: options, push: original.command != "verify")
    }

    /// Finishes a run that died or was interrupted: its unfinished jobs (pending, running, cancelled) are reconciled
    /// with the registry (a tag already holding the image counts as done) and completed in the same run.
    public func resume(_ run: RunRow, access: RegistryAccess, options: RunOptions) async throws(WorkflowError) -> RunOutcome {
        let rows = try await audited { try await log.jobs(run: run.id) }
        let unfinished = rows.filter { [.pending, .running, .cancelled].contains($0.status) }
        let release = RecordedOptions.release(run.options)
        let again = continuing(run)
        var planned: [PlannedImageJob] = []
        for row in unfinished { planned.append(try await again.recorded(row, release: release, command: run.command)) }
        let environment = context.environment
        try await SharedQueue.takeBack(run.id, log, options: options, context: context)
        try await audited {
            try await log.reopenRun(run.id, commandLine: environment.commandLine, pid: environment.pid,
                                    at: context.time.wallClock)
        }
        context.progress.emit(.line("resuming run \(run.id): \(planned.count) unfinished jobs"))
        // A release's mutable tags move only if every version tag of the run is there: a version job that failed
        // before the run stopped holds them back too.
        let versionFailed = rows.contains { row in
            row.status == .failed && !(release.map { Set(row.items).isSubset(of: Set($0.mutableTags)) } ?? true)
        }
        var items: [(WorkItem<ImageJob>, Int)] = []
        for (row, plan) in zip(unfinished, planned) {
            items.append((try workItem(runID: run.id, id: row.id, plan, priorAttempts: row.attempts), plan.phase))
        }
        return try await ImageRunExecutor(log: log, context: context)
            .execute(run.id, phases: Self.phases(items), access: access, options: options, push: run.command != "verify",
                     holdLaterPhases: versionFailed)
    }

    // MARK: Planning

    /// This provisioner with the platform filter and referrer choice the recorded run applied (its sources are read
    /// the same way).
    func continuing(_ run: RunRow) -> Provisioner {
        var catalog = self.catalog
        catalog.platforms = RecordedOptions.platforms(run.options).compactMap(Platform.init(parsing:))
        catalog.referrers = RecordedOptions.referrers(run.options)
        return Provisioner(log: log, context: context, catalog: catalog)
    }

    private func loadImages(_ file: ServicesFile) async throws(WorkflowError) -> [ImageCatalog.Entry] {
        let images: [ImageCatalog.Entry]
        do { images = try await catalog.load(file) } catch { throw .input(error) }
        if let registries = catalog.registries {
            try await PullBudgetCheck(registries: registries, context: context).ensure()
        }
        // One warning per distinct image, naming the services that use it.
        var unlabelled: [(source: String, services: [String])] = []
        for (service, source) in ImageCatalog.unlabelled(file, images) {
            if let index = unlabelled.firstIndex(where: { $0.source == source }) {
                unlabelled[index].services.append(service)
            } else {
                unlabelled.append((source, [service]))
            }
        }
        for (source, services) in unlabelled {
            let who = services.count == 1 ? "service '\(services[0])'"
                : "\(services.count) services (\(services.prefix(3).joined(separator: ", "))\(services.count > 3 ? ", ..." : ""))"
            context.progress.emit(.warning("warning: \(source) (\(who)) has no org.opencontainers.image.source label: ghcr.io "
                                           + "will not link its package to a repository (stevedore does not rewrite a real "
                                           + "image: that would change its digest)"))
        }
        return images
    }

    static func newJob(_ seq: Int, _ service: ServicesFile.Service, _ access: RegistryAccess, tags: [String],
                       source: ImageCatalog.Entry) -> NewJob {
        NewJob(seq: seq, service: service.name, registry: access.registry.description, repository: service.repository.value,
               items: tags, source: source.source, sourceDigest: source.image.digest.description)
    }

    /// A recorded job as it is run again: its image loaded from its recorded source (which must still be what the
    /// run pushed), its tag policy from the run's command and release settings.
    private func recorded(_ row: JobRow, release: ReleaseSettings?, command: String) async throws(WorkflowError) -> PlannedImageJob {
        Self.planned(row, entry: try await recordedSource(row), release: release)
    }

    /// A recorded job's image, loaded from its recorded source, which must still hold what the run pushed.
    func recordedSource(_ row: JobRow) async throws(WorkflowError) -> ImageCatalog.Entry {
        let source = row.source ?? ImageCatalog.placeholderPrefix
        let entry: ImageCatalog.Entry
        do { entry = try await catalog.load(source: source) } catch {
            throw .usage("run \(row.runID) job \(row.service): its image source cannot be read: \(error)")
        }
        if let expected = row.sourceDigest, expected != entry.image.digest.description {
            throw .usage("run \(row.runID) job \(row.service): its source \(source) now holds \(entry.image.digest), "
                         + "not the \(expected) the run pushed; push the new image in a new run")
        }
        return entry
    }

    /// A recorded job with its image `entry`: its tag policy from the run's command and release settings.
    static func planned(_ row: JobRow, entry: ImageCatalog.Entry, release: ReleaseSettings?) -> PlannedImageJob {
        let source = row.source ?? ImageCatalog.placeholderPrefix
        let mutable = Set(release?.mutableTags ?? [])
        let onlyMutable = release != nil && !row.items.isEmpty && Set(row.items).isSubset(of: mutable)
        let policy: TagPolicy = release == nil ? .placeholder : onlyMutable ? .mutable : .immutable
        return PlannedImageJob(new: NewJob(seq: row.seq, service: row.service, registry: row.registry,
                                           repository: row.repository, target: row.target, items: row.items,
                                           source: source, sourceDigest: row.sourceDigest),
                               image: entry.image, policy: policy, mutableTags: release == nil ? [] : mutable,
                               phase: onlyMutable && release?.moment == .afterAll ? 1 : 0)
    }

    /// Records the run and all its jobs (pending) before anything is sent, then runs them.
    func start(_ plan: Plan, access: RegistryAccess, options: RunOptions, push: Bool) async throws(WorkflowError) -> RunOutcome {
        let environment = context.environment
        let run = NewRun(command: plan.command, commandLine: environment.commandLine, toolVersion: RunEnvironment.toolVersion,
                         host: environment.host, user: environment.user, inputFile: plan.inputFile,
                         inputSHA256: plan.inputSHA256, registry: access.registry.description, namespace: plan.namespace,
                         options: RecordedOptions.json(options, access: access, release: plan.release,
                                                       platforms: catalog.platforms.map(\.description),
                                                       referrers: catalog.copiesReferrers),
                         parentRunID: plan.parentRunID, startedAt: context.time.wallClock, pid: environment.pid)
        let runID = try await audited { try await log.beginRun(run) }
        let ids = try await audited { try await log.insertJobs(run: runID, plan.jobs.map(\.new)) }
        let items = try zip(ids, plan.jobs).map { id, job throws(WorkflowError) in
            (try workItem(runID: runID, id: id, job), job.phase)
        }
        let outcome = try await ImageRunExecutor(log: log, context: context)
            .execute(runID, phases: Self.phases(items), access: access, options: options, push: push)
        reportSourceReads()
        return outcome
    }

    /// One line on what the run read from its source registries, when it read any.
    private func reportSourceReads() {
        guard let read = catalog.registries?.meter.snapshot, read.manifestRequests + read.blobRequests > 0 else { return }
        context.progress.emit(.line("read from source registries: \(read.blobBytes) blob bytes in \(read.blobRequests) "
                                    + "blob requests (\(read.resumes) resumed), \(read.manifestRequests) manifests"))
    }

    static func phases(_ items: [(WorkItem<ImageJob>, Int)]) -> [[WorkItem<ImageJob>]] {
        let count = (items.map(\.1).max() ?? 0) + 1
        return (0..<count).map { phase in items.filter { $0.1 == phase }.map(\.0) }
    }

    func workItem(runID: RunID, id: JobID, _ job: PlannedImageJob, priorAttempts: Int = 0) throws(WorkflowError)
        -> WorkItem<ImageJob> {
        do {
            let name = try RepositoryName(validating: job.new.repository)
            let tags = try job.new.items.map { text throws(ReferenceError) in try Tag(validating: text) }
            return WorkItem(runID: runID, id: id, seq: job.new.seq, service: job.new.service,
                            target: "\(job.new.registry)/\(name)", priorAttempts: priorAttempts,
                            payload: ImageJob(repository: name, tags: tags, image: job.image, policy: job.policy,
                                              mutableTags: job.mutableTags,
                                              copyReferrers: catalog.copiesReferrers))
        } catch {
            throw .usage("the audit log names an invalid job (\(error.message)); it cannot be continued")
        }
    }
}

extension Provisioner {
    /// `stevedore copy SRC DST`: one image (a registry source, a layout or an archive) to one tag of a repository,
    /// recorded as a one-job run (command `copy`). Like skopeo, a tag holding another image is moved to this one
    /// (the digest it held is recorded).
    public func copy(source: String, to destination: ImageReference, access: RegistryAccess,
                     options: RunOptions) async throws(WorkflowError) -> RunOutcome {
        guard let tag = destination.tag else {
            throw .usage("destination \(destination) names no tag: give docker://HOST/NAME:TAG")
        }
        let entry: ImageCatalog.Entry
        do { entry = try await catalog.load(source: source) } catch {
            throw error.unavailable ? .unavailable(error.description) : .usage(error.description)
        }
        if let registries = catalog.registries {
            try await PullBudgetCheck(registries: registries, context: context).ensure()
        }
        let job = NewJob(seq: 1, service: destination.repository.value, registry: access.registry.description,
                         repository: destination.repository.value, items: [tag.value], source: entry.source,
                         sourceDigest: entry.image.digest.description)
        let planned = PlannedImageJob(new: job, image: entry.image, policy: .mutable, mutableTags: [tag.value], phase: 0)
        return try await start(Plan(command: "copy", inputFile: nil, inputSHA256: nil, namespace: nil, jobs: [planned]),
                               access: access, options: options, push: true)
    }
}
