import AuditStore
import Foundation
import ImagePush
import JobRunner
import Synchronization

/// `stevedore worker`: a runner process that joins the runs other processes started on the shared queue
/// (PostgreSQL), on this machine or another, and claims their jobs alongside them. It reads each run's recorded
/// options and sources, brings its own credentials and its own speed (concurrency, rate), and records through the same
/// recorder as the starting process; the starting process closes the run.
public struct Worker: Sendable {
    public struct Settings: Sendable {
        /// Keep waiting for new runs (woken by the queue's notifications) instead of leaving when none needs it.
        public var follow = false
        /// Only these runs (empty: any).
        public var runs: Set<RunID> = []
        /// Only runs to this registry (`host[:port]`; nil: any).
        public var registry: String?
        /// How long a worker without `follow` waits, once no running run has a job pending or held, before it leaves.
        public var idle: Duration = .seconds(2)

        public init() {}
    }

    /// What the worker did.
    public struct Summary: Sendable, Equatable {
        public var runner: String
        public var runs: [RunID] = []
        public var finished = 0
        public var failed = 0
        /// Results not recorded: the lease had been taken over by another runner.
        public var refused = 0
    }

    let log: any RunLog
    let context: WorkflowContext
    let catalog: ImageCatalog
    /// The access to a run's registry with this machine's credentials and TLS settings.
    let access: @Sendable (RunRow) throws -> RegistryAccess

    public init(log: any RunLog, context: WorkflowContext, catalog: ImageCatalog,
                access: @escaping @Sendable (RunRow) throws -> RegistryAccess) {
        self.log = log
        self.context = context
        self.catalog = catalog
        self.access = access
    }

    /// Image runs: a Maven run reads staged files on the machine that started it, and is run there.
    static let joinable: Set<String> = ["provision", "push", "copy", "verify", "retry"]

    /// Joins open runs until none needs this worker (or, with `follow`, until cancelled).
    public func work(options: RunOptions, settings: Settings) async throws(WorkflowError) -> Summary {
        let counting = FinishCounter(base: context.progress)
        var context = self.context
        context.progress = counting
        guard let shared = try await SharedQueue.join(log, role: .worker, run: nil, options: options, context: context) else {
            throw .usage("stevedore worker needs a database several machines share: --db postgres://USER@HOST:PORT/DB")
        }
        var summary = Summary(runner: shared.queue.runner)
        var passed: Set<RunID> = []
        func wanted(_ run: RunID) -> Bool { !passed.contains(run) && (settings.runs.isEmpty || settings.runs.contains(run)) }
        var idleSince = context.time.monotonic
        do {
            while !Task.isCancelled {
                let open = try await audited { try await shared.queue.openRuns() }
                    .filter(wanted)
                if let runID = open.first {
                    if try await join(runID, shared, options: options, settings: settings, context: context) {
                        if !summary.runs.contains(runID) { summary.runs.append(runID) }
                    } else {
                        passed.insert(runID)
                    }
                    idleSince = context.time.monotonic
                    continue
                }
                _ = await shared.keeper.rescue()
                // A run whose jobs are all held or not queued yet (its canary, a phase's end) may still need this worker.
                if try await audited({ try await shared.queue.busyRuns(commands: Self.joinable) }).contains(where: wanted) {
                    idleSince = context.time.monotonic
                }
                if !settings.follow, context.time.monotonic - idleSince >= settings.idle { break }
                await shared.queue.waitForWork(timeout: settings.follow ? shared.queue.lease / 2 : .milliseconds(250))
            }
        } catch {
            await shared.leave()
            throw error
        }
        await shared.leave()
        summary.finished = counting.finished
        summary.failed = counting.failed
        summary.refused = shared.queue.refusedWrites.count
        return summary
    }

    /// Works on `runID` until nothing of it is pending; false when this worker cannot take part (said why).
    private func join(_ runID: RunID, _ shared: SharedQueue, options: RunOptions, settings: Settings,
                      context: WorkflowContext) async throws(WorkflowError) -> Bool {
        guard let run = try await audited({ try await log.run(runID) }) else { return false }
        func pass(_ reason: String) -> Bool {
            context.progress.emit(.line("worker: leaving run \(runID) (\(run.command)) to other runners: \(reason)"))
            return false
        }
        guard Self.joinable.contains(run.command) else {
            return pass("a \(run.command) run is run by the process that started it")
        }
        if let registry = settings.registry, run.registry != registry { return pass("it pushes to \(run.registry ?? "?")") }
        let access: RegistryAccess
        do { access = try self.access(run) } catch { return pass("\(error)") }
        let joined = RecordedOptions.joining(run.options, into: options)
        let items: [JobID: WorkItem<ImageJob>]
        do { items = try await workItems(run) } catch { return pass("\(error)") }
        context.progress.emit(.line("worker: joining run \(runID) (\(run.command), \(items.count) unfinished jobs) "
                                    + "on \(access.registry)"))
        let auditBefore = shared.queue.auditWriteMilliseconds
        do {
            try await ImageRunExecutor(log: log, context: context)
                .join(runID, shared: shared, items: items, access: access, options: joined, push: run.command != "verify")
        } catch .unavailable(let message) {
            return pass(message)
        }
        // The run's record holds the audit time of every runner that worked on it.
        let spent = shared.queue.auditWriteMilliseconds - auditBefore
        try await audited { try await shared.queue.creditAuditTime(run: runID, milliseconds: spent) }
        return true
    }

    /// The run's unfinished jobs as work items, each distinct source loaded once (and checked to hold what the run
    /// recorded) before any job is claimed.
    private func workItems(_ run: RunRow) async throws(WorkflowError) -> [JobID: WorkItem<ImageJob>] {
        let provisioner = Provisioner(log: log, context: context, catalog: catalog).continuing(run)
        let release = RecordedOptions.release(run.options)
        var sources: [String: ImageCatalog.Entry] = [:]
        var items: [JobID: WorkItem<ImageJob>] = [:]
        for row in try await audited({ try await log.jobs(run: run.id) }) where [.pending, .running, .cancelled].contains(row.status) {
            let key = (row.source ?? "") + "@" + (row.sourceDigest ?? "")
            let entry: ImageCatalog.Entry
            if let known = sources[key] { entry = known } else {
                entry = try await provisioner.recordedSource(row)
                sources[key] = entry
            }
            let planned = Provisioner.planned(row, entry: entry, release: release)
            items[row.id] = try provisioner.workItem(runID: run.id, id: row.id, planned, priorAttempts: row.attempts)
        }
        return items
    }
}

/// Passes progress on, counting the jobs this process finished.
final class FinishCounter: ProgressSink {
    let base: any ProgressSink
    private let counts = Mutex<(finished: Int, failed: Int)>((0, 0))

    init(base: any ProgressSink) { self.base = base }

    func emit(_ event: ProgressEvent) {
        if case .jobFinished(let finished) = event {
            counts.withLock { counts in
                counts.finished += 1
                if finished.outcome == .failed { counts.failed += 1 }
            }
        }
        base.emit(event)
    }

    var finished: Int { counts.withLock { $0.finished } }
    var failed: Int { counts.withLock { $0.failed } }
}
