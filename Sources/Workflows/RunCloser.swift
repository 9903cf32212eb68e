import AuditStore
import Foundation

/// The end of every run, whatever its kind: jobs left unfinished are cancelled, the run's status is derived from
/// all its jobs, and the summary is announced.
struct RunCloser: Sendable {
    let log: any RunLog
    let context: WorkflowContext

    func close(_ runID: RunID, outcome: RunOutcome,
               recorder firstStoreError: () async -> AuditStoreError?) async throws(WorkflowError) -> RunOutcome {
        let now = context.time.wallClock
        // With a shared queue, the run's claims close first: a runner still holding one can no longer record on it.
        if let queue = log.jobQueue(lease: .seconds(30)) { try await audited { try await queue.closeClaims(run: runID) } }
        // Jobs still pending here were stopped by an interrupt or the deadline.
        let stopped = try await audited { try await log.cancelUnfinishedJobs(run: runID, at: now) }
        if stopped > 0 && outcome != .interrupted {
            context.progress.emit(.warning("error: --deadline reached: \(stopped) jobs were not finished; "
                                           + "finish them with stevedore resume \(runID)"))
        }
        // Only the job counts decide the run's status; the full summary is read once the run is closed.
        let counts = try await audited { try await log.summary(run: runID, details: false) }
        let failed = (counts?.jobsFailed ?? 0) > 0 || (outcome != .interrupted && (counts?.jobsCancelled ?? 0) > 0)
        let status: RunStatus = outcome == .interrupted ? .interrupted : failed ? .failed : .succeeded
        try await audited { try await log.finishRun(runID, status: status, at: context.time.wallClock) }
        if let error = await firstStoreError() { throw .audit(error) }
        if let summary = try await audited({ try await log.summary(run: runID, details: true) }) {
            context.progress.emit(.runFinished(.init(summary: summary, auditLog: log.location,
                                                     line: Self.oneLine(summary) + "; audit log: \(log.location)")))
        }
        return outcome == .interrupted ? .interrupted : failed ? .jobsFailed : .succeeded
    }

    /// The normal end of a run whose jobs were recorded through `recorder`.
    func close<Handler>(_ runID: RunID, outcome: RunOutcome,
                        recorder: RunRecorder<Handler>) async throws(WorkflowError) -> RunOutcome {
        await recorder.drain()
        return try await close(runID, outcome: outcome, recorder: { await recorder.firstStoreError() })
    }

    /// A run stopped by `error`: what was recorded is written out and the run is marked failed; the error to throw.
    func fail<Handler>(_ runID: RunID, recorder: RunRecorder<Handler>, _ error: any Error) async -> WorkflowError {
        await recorder.drain()
        try? await log.jobQueue(lease: .seconds(30))?.closeClaims(run: runID)
        try? await log.finishRun(runID, status: .failed, at: context.time.wallClock)
        return Provisioner.workflowError(error)
    }

    /// `run 7 succeeded: 15 jobs (15 succeeded, 0 skipped, 0 failed), 30 tags pushed, 15 attempts`.
    static func oneLine(_ s: RunSummary) -> String {
        var text = "run \(s.runID) \(s.status.rawValue): \(s.jobsTotal) jobs (\(s.jobsSucceeded) succeeded, "
            + "\(s.jobsSkipped) skipped, \(s.jobsFailed) failed"
        if s.jobsCancelled > 0 { text += ", \(s.jobsCancelled) cancelled" }
        if s.jobsPending > 0 { text += ", \(s.jobsPending) unfinished" }
        let items = s.command.hasPrefix("maven") ? "files uploaded" : "tags pushed"
        text += "), \(s.tagsPushed) \(items), \(s.tagsSkipped) skipped"
        if s.tagsKept > 0 { text += ", \(s.tagsKept) kept" }
        text += ", \(s.attemptsTotal) attempts"
        return text
    }
}
