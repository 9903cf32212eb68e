import AuditStore
import Foundation
import JobRunner
import OCIRegistry
import Synchronization

/// Turns runner events into audit rows and result lines, as they happen.
///
/// A failed attempt is written when it ends, before the runner starts the next one. The succeeded
/// attempt is written with the job's finish and its tag results, in one transaction that does not make the
/// worker wait: finishes of concurrent workers share a commit (at most 8 of them or 20 ms apart), and the
/// run's next waiting write commits what is left. A crash loses at most the attempts in flight and those few
/// finishes; `resume` finds their tags in the registry and does not push them again. A failing write does not stop the run; the first one is kept and
/// reported at the end.
final class RunRecorder: Sendable {
    let store: AuditStore
    let runID: RunID
    let console: Console
    let registry: RegistryHost
    let expectedDigest: Digest
    private let storeError = Mutex<AuditStoreError?>(nil)
    /// A job's succeeded attempt, written with the job's finish in one transaction.
    private let finalAttempts = Mutex<[JobID: AttemptRecord]>([:])

    init(store: AuditStore, runID: RunID, console: Console, registry: RegistryHost, expectedDigest: Digest) {
        self.store = store
        self.runID = runID
        self.console = console
        self.registry = registry
        self.expectedDigest = expectedDigest
    }

    /// The first audit write that failed, deferred job finishes included (call after the run's last write).
    var firstStoreError: AuditStoreError? { storeError.withLock { $0 } ?? store.flush() }

    func handle(_ event: RunnerEvent<ProvisionJob, [TagOutcome]>) async {
        switch event {
        case .started(let job):
            // The job becomes `running` with its first recorded attempt (no write of its own).
            console.jobStarted()
            console.event("job_started", ["run_id": runID, "job_id": job.id, "service": job.service,
                                          "repository": "\(registry)/\(job.repository)"])
        case let .attemptEnded(job, report):
            let record = attemptRecord(job, report)
            if record.outcome == .succeeded {
                finalAttempts.withLock { $0[job.id] = record }
            } else {
                write { try store.recordAttempt(record) }
            }
            if record.outcome == .failed {
                console.event("attempt_failed", ["run_id": runID, "job_id": job.id, "service": job.service,
                                                 "attempt": record.number, "class": record.errorClass,
                                                 "http_status": record.httpStatus, "error_code": record.errorCode,
                                                 "message": record.message, "wait_ms": record.waitMs])
            }
        case let .finished(job, outcome):
            finish(job, outcome)
        }
    }

    /// The rate limiter paused every worker: say so (as the progress style wants), and record it.
    @Sendable func paused(_ pause: RateLimiter.Pause) {
        let rate = pause.rateAfter.map { String(format: "%.1f/s", $0) } ?? "unlimited"
        console.rateLimited(
            by: registry.description, for: pause.duration,
            message: "rate limited by \(registry) (\(pause.reason)): all workers pause for "
                + "\(pause.duration.milliseconds) ms, rate now \(rate)",
            fields: ["run_id": runID, "registry": registry.description, "reason": pause.reason,
                     "pause_ms": pause.duration.milliseconds, "rate_after": pause.rateAfter])
        write { try store.recordPause(run: runID, registry: registry.description, at: Date(),
                                      durationMs: pause.duration.milliseconds, rateAfter: pause.rateAfter,
                                      reason: pause.reason) }
    }

    /// Records a job that was never attempted (the run stopped before it).
    func notAttempted(_ job: ProvisionJob, failure: PushError) {
        let completion = JobCompletion(status: .failed, digest: nil, errorClass: failure.failureClass.rawValue,
                                       errorMessage: "not attempted: \(failure.message)", finishedAt: Date())
        write { try store.finishJob(job.id, completion) }
    }

    private func attemptRecord(_ job: ProvisionJob, _ report: AttemptReport) -> AttemptRecord {
        let meter = job.progress.meter
        var record = AttemptRecord(jobID: job.id, number: job.priorAttempts + report.number, startedAt: report.startedAt,
                                   durationMs: report.duration.milliseconds, outcome: .succeeded,
                                   requests: meter.requests, bytesSent: meter.bytesSent)
        if let failure = report.failure {
            let error = PushError.classify(failure.error)
            record.outcome = failure.failureClass == .cancelled ? .cancelled : .failed
            record.httpStatus = error.httpStatus
            record.errorCode = error.errorCode
            record.errorClass = failure.failureClass.rawValue
            record.message = error.message
            record.waitMs = failure.nextWait?.milliseconds
            record.waitReason = failure.waitReason?.rawValue
        }
        return record
    }

    private func finish(_ job: ProvisionJob, _ outcome: JobOutcome<[TagOutcome]>) {
        let now = Date()
        let tags = job.progress.outcomes(in: job.tags)
        let tagResults = tags.map { tag in
            TagResult(jobID: job.id, tag: tag.tag.value, action: tag.action, digestBefore: tag.before?.description,
                      digestAfter: tag.after?.description, at: now)
        }
        let completion: JobCompletion
        let name = "\(registry)/\(job.repository)"
        switch outcome {
        case let .succeeded(outcomes, attempts):
            let changed = outcomes.contains { $0.action == .pushed || $0.action == .overwritten }
            let kept = outcomes.filter { $0.action == .kept }
            let holds = outcomes.contains { $0.after == expectedDigest }
            completion = JobCompletion(
                status: changed || outcomes.contains(where: { $0.action == .verified || $0.action == .different }) ? .succeeded : .skipped,
                digest: holds ? expectedDigest.description : outcomes.first?.after?.description,
                errorClass: kept.isEmpty ? nil : FailureClass.conflict.rawValue,
                errorMessage: kept.isEmpty ? nil : Self.keptMessage(kept),
                finishedAt: now)
            console.jobFinished(completion.status == .skipped ? .skipped : .ok,
                                line: Self.line(name: name, outcomes: outcomes, attempts: attempts))
        case let .failed(error, failureClass, attempts):
            let message = PushError.classify(error).message
            completion = JobCompletion(status: .failed, digest: nil, errorClass: failureClass.rawValue,
                                       errorMessage: message, finishedAt: now)
            let tries = attempts == 1 ? "1 attempt" : "\(attempts) attempts"
            console.jobFinished(.failed, line: "failed    \(name)  \(failureClass): \(message) (\(tries))")
        case .cancelled:
            completion = JobCompletion(status: .cancelled, digest: nil, errorClass: FailureClass.cancelled.rawValue,
                                       errorMessage: "run interrupted", finishedAt: now)
            console.jobFinished(.cancelled, line: "cancelled \(name)")
        }
        let lastAttempt = finalAttempts.withLock { $0.removeValue(forKey: job.id) }
        // Deferred: finishes of concurrent workers share a commit; the run's next waiting write commits the rest.
        store.finishJobDeferred(job.id, completion, lastAttempt: lastAttempt, tagResults: tagResults)
        console.event("job_finished", [
            "run_id": runID, "job_id": job.id, "service": job.service, "repository": name,
            "status": completion.status.rawValue, "error_class": completion.errorClass,
            "error_message": completion.errorMessage, "digest": completion.digest,
            "tags": tags.map { ["tag": $0.tag.value, "action": $0.action.rawValue, "digest": $0.after?.description as Any] },
        ])
    }

    static func keptMessage(_ kept: [TagOutcome]) -> String {
        let list = kept.map { "\($0.tag) holds \($0.before.map { String($0.description.prefix(19)) } ?? "?")" }
        return "left untouched: \(list.joined(separator: ", ")) (not the placeholder; --force overwrites)"
    }

    static func line(name: String, outcomes: [TagOutcome], attempts: Int) -> String {
        var groups: [(TagAction, [String])] = []
        for outcome in outcomes {
            if let index = groups.firstIndex(where: { $0.0 == outcome.action }) {
                groups[index].1.append(outcome.tag.value)
            } else {
                groups.append((outcome.action, [outcome.tag.value]))
            }
        }
        let status = groups.contains { $0.0 == .pushed || $0.0 == .overwritten } ? "pushed"
            : groups.contains { $0.0 == .missing } ? "missing"
            : groups.contains { $0.0 == .verified || $0.0 == .different } ? "ok" : "skipped"
        let detail = groups.map { "\($0.0.rawValue): \($0.1.joined(separator: ","))" }.joined(separator: "; ")
        let retries = attempts > 1 ? " (after \(attempts) attempts)" : ""
        return "\(status.padding(toLength: 9, withPad: " ", startingAt: 0)) \(name)  \(detail)\(retries)"
    }

    private func write(_ body: () throws -> Void) {
        do {
            try body()
        } catch {
            let error = error as? AuditStoreError
                ?? AuditStoreError(.sqlite(code: 0), path: store.path, message: "\(error)")
            let first = storeError.withLock { stored -> Bool in
                guard stored == nil else { return false }
                stored = error
                return true
            }
            if first { console.error("error: \(error)") }
        }
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
