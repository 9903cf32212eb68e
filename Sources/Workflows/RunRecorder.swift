import AuditStore
import Foundation
import HTTPTransport
import JobRunner
import Synchronization
import Timekeeping

/// Turns runner events into audit rows and progress events, as they happen.
///
/// A failed attempt is written when it ends, before the runner starts the next one. The succeeded attempt is
/// written with the job's finish and its item results, in one transaction that does not make the worker wait:
/// finishes of concurrent workers share a commit, and the run's next waiting write commits what is left. A crash
/// loses at most the attempts in flight and those few finishes; `resume` finds their tags in the registry and does
/// not push them again. A failing write does not stop the run; the first one is kept and reported at the end.
final class RunRecorder<Handler: JobKindHandler>: Sendable {
    typealias Item = WorkItem<Handler.Payload>

    let log: any RunLog
    let runID: RunID
    let handler: Handler
    let progress: any ProgressSink
    let time: any TimeSource
    /// The registry (or repository host) the run talks to, for pause messages.
    let host: String
    private let storeError = Mutex<AuditStoreError?>(nil)
    /// A job's succeeded attempt, written with the job's finish in one transaction.
    private let finalAttempts = Mutex<[JobID: AttemptRecord]>([:])
    /// Pause records on their way to the log (the limiter reports pauses synchronously).
    private let pendingPauses = Mutex<[Task<Void, Never>]>([])

    init(log: any RunLog, runID: RunID, handler: Handler, progress: any ProgressSink, time: any TimeSource, host: String) {
        self.log = log
        self.runID = runID
        self.handler = handler
        self.progress = progress
        self.time = time
        self.host = host
    }

    /// The first audit write that failed, deferred job finishes included (call after the run's last write).
    /// Waits until every pause reported so far is written.
    func drain() async {
        for task in pendingPauses.withLock({ pending in defer { pending = [] }; return pending }) { await task.value }
    }

    func firstStoreError() async -> AuditStoreError? {
        await drain()
        if let error = storeError.withLock({ $0 }) { return error }
        return await log.flush()
    }

    func handle(_ event: RunnerEvent<Item, Handler.Output>) async {
        switch event {
        case .started(let job):
            // The job becomes `running` with its first recorded attempt (no write of its own).
            progress.emit(.jobStarted(.init(runID: runID, jobID: job.id, service: job.service, target: job.target)))
        case let .attemptEnded(job, report):
            let record = attemptRecord(job, report)
            if record.outcome == .succeeded {
                finalAttempts.withLock { $0[job.id] = record }
            } else {
                await write { try await self.log.recordAttempt(record) }
            }
            if record.outcome == .failed {
                progress.emit(.attemptFailed(.init(runID: runID, jobID: job.id, service: job.service, attempt: record.number,
                                                   errorClass: record.errorClass, httpStatus: record.httpStatus,
                                                   errorCode: record.errorCode, message: record.message,
                                                   waitMs: record.waitMs)))
            }
        case let .finished(job, outcome):
            switch outcome {
            case .rescheduled:
                // The attempt's record put the job back in the shared queue; any runner finishes it.
                break
            case .cancelled where job.claim != nil:
                // This runner stops (or lost the lease): the job goes back to the queue, not to `cancelled`.
                break
            default:
                finish(job, outcome)
            }
        }
    }

    /// The rate limiter paused every worker: say so, and record it.
    @Sendable func paused(_ pause: RateLimiter.Pause) {
        let rate = pause.rateAfter.map { String(format: "%.1f/s", $0) } ?? "unlimited"
        let message = "rate limited by \(host) (\(pause.reason)): all workers pause for "
            + "\(pause.duration.milliseconds) ms, rate now \(rate)"
        progress.emit(.rateLimited(.init(runID: runID, registry: host, reason: pause.reason,
                                         pauseMs: pause.duration.milliseconds, rateAfter: pause.rateAfter,
                                         message: message)))
        let record = PauseRecord(runID: runID, registry: host, at: time.wallClock, durationMs: pause.duration.milliseconds,
                                 rateAfter: pause.rateAfter, reason: pause.reason)
        let task = Task { await write { try await self.log.recordPause(record) } }
        pendingPauses.withLock { $0.append(task) }
    }

    /// Records a job that was never attempted (the run stopped before it).
    func notAttempted(_ job: Item, failure: JobFailure) async {
        let completion = JobCompletion(status: .failed, digest: nil, errorClass: failure.failureClass.rawValue,
                                       errorMessage: "not attempted: \(failure.message)", finishedAt: time.wallClock)
        await write { try await self.log.finishJob(JobFinish(runID: self.runID, jobID: job.id, completion: completion)) }
    }

    private func attemptRecord(_ job: Item, _ report: AttemptReport) -> AttemptRecord {
        let meter = job.meter.meter
        var record = AttemptRecord(runID: runID, jobID: job.id, number: job.priorAttempts + report.number,
                                   startedAt: report.startedAt, durationMs: report.duration.milliseconds,
                                   outcome: .succeeded, requests: meter.requests, bytesSent: Int(meter.bytesSent))
        record.blobs = handler.takeBlobActions(of: job.payload, at: time.wallClock)
        record.fence = job.claim?.fence
        if let failure = report.failure {
            let error = JobFailure.classify(failure.error, now: time.wallClock)
            record.outcome = failure.failureClass == .cancelled ? .cancelled : .failed
            record.httpStatus = error.httpStatus
            record.errorCode = error.errorCode
            record.errorClass = failure.failureClass.rawValue
            record.message = error.message
            record.waitMs = failure.nextWait?.milliseconds
            record.waitReason = failure.waitReason?.rawValue
            if let state = failure.rescheduled {
                record.reschedule = Reschedule(afterMs: failure.nextWait?.milliseconds ?? 0,
                                               counters: RetryCounters(counted: state.counted, consecutive: state.consecutive))
            } else if failure.failureClass == .cancelled, let claim = job.claim {
                record.reschedule = Reschedule(afterMs: 0, counters: claim.counters)
            }
        }
        return record
    }

    private func finish(_ job: Item, _ outcome: JobOutcome<Handler.Output>) {
        let now = time.wallClock
        let items = handler.items(of: job.payload, at: now)
        let completion: JobCompletion
        let line: String
        let shown: ProgressEvent.JobFinished.Outcome
        switch outcome {
        case let .succeeded(output, attempts):
            completion = handler.completion(of: job.payload, output: output, at: now)
            line = handler.line(target: job.target, output: output, attempts: attempts)
            shown = completion.status == .skipped ? .skipped : .ok
        case let .failed(error, failureClass, attempts):
            let message = JobFailure.classify(error, now: now).message
            completion = JobCompletion(status: .failed, digest: nil, errorClass: failureClass.rawValue,
                                       errorMessage: message, finishedAt: now)
            let tries = attempts == 1 ? "1 attempt" : "\(attempts) attempts"
            line = "failed    \(job.target)  \(failureClass): \(message) (\(tries))"
            shown = .failed
        case .cancelled, .rescheduled:
            completion = JobCompletion(status: .cancelled, digest: nil, errorClass: FailureClass.cancelled.rawValue,
                                       errorMessage: "run interrupted", finishedAt: now)
            line = "cancelled \(job.target)"
            shown = .cancelled
        }
        let lastAttempt = finalAttempts.withLock { $0.removeValue(forKey: job.id) }
        // Deferred: finishes of concurrent workers share a commit; the run's next waiting write commits the rest.
        log.finishJobDeferred(JobFinish(runID: runID, jobID: job.id, completion: completion, lastAttempt: lastAttempt,
                                        items: items, manifests: handler.manifests(of: job.payload, at: now),
                                        fence: job.claim?.fence))
        progress.emit(.jobFinished(.init(runID: runID, jobID: job.id, service: job.service, target: job.target,
                                         outcome: shown, status: completion.status, errorClass: completion.errorClass,
                                         errorMessage: completion.errorMessage, digest: completion.digest,
                                         items: items.map { ($0.item, $0.action, $0.digestAfter) }, line: line,
                                         bytesSent: job.meter.total)))
    }

    private func write(_ body: () async throws -> Void) async {
        do {
            try await body()
        } catch {
            let error = error as? AuditStoreError
                ?? AuditStoreError(.engine(code: "write"), path: log.location, message: "\(error)")
            let first = storeError.withLock { stored -> Bool in
                guard stored == nil else { return false }
                stored = error
                return true
            }
            if first { progress.emit(.warning("error: \(error)")) }
        }
    }
}
