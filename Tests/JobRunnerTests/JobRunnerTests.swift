import Foundation
import JobRunner
import Synchronization
import Testing
import Timekeeping

struct Flaky: ClassifiedError {
    let failureClass: FailureClass
    var retryAfter: Duration? = nil
    var madeProgress = false
}

/// Collects events for assertions.
final class EventLog: Sendable {
    let entries = Mutex<[String]>([])
    func add(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}

@Suite struct JobRunnerTests {
    func describe(_ event: RunnerEvent<Int, String>) -> String {
        switch event {
        case .started(let job): "start \(job)"
        case let .attemptEnded(job, report):
            "attempt \(job)#\(report.number) " + (report.failure.map { "\($0.failureClass) wait=\($0.nextWait.map { "\($0)" } ?? "none")" } ?? "ok")
        case let .finished(job, .succeeded(output, attempts)): "done \(job) \(output) after \(attempts)"
        case let .finished(job, .failed(_, failureClass, attempts)): "failed \(job) \(failureClass) after \(attempts)"
        case let .finished(job, .cancelled(attempts)): "cancelled \(job) after \(attempts)"
        case let .finished(job, .rescheduled(after, attempts)): "rescheduled \(job) in \(after) after \(attempts)"
        }
    }

    @Test func aRunnerThatSchedulesRetriesEndsTheJobWithItsStateInsteadOfSleeping() async throws {
        let log = EventLog()
        let time = ManualTime(autoAdvance: true)
        let runner = JobRunner(concurrency: 1, retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(100)),
                               time: time, schedulesRetries: true, random: { 0.5 })
        let states = Mutex<[RetryState]>([])
        let events: @Sendable (RunnerEvent<Int, String>) async -> Void = { event in
            log.add(self.describe(event))
            if case let .attemptEnded(_, report) = event, let state = report.failure?.rescheduled {
                states.withLock { $0.append(state) }
            }
        }
        // Job 1 comes from earlier claims: two counted failures, back-off exponent 2, three attempts made.
        try await runner.run(jobs: AsyncJobs([1, 2]), state: { $0 == 1 ? RetryState(attempts: 3, counted: 2, consecutive: 2)
                                                                       : RetryState() },
                             attempt: { _, _ in throw Flaky(failureClass: .server) }, events: events)
        #expect(time.sleeps.isEmpty)
        // Job 1's third counted failure is its last; job 2 is scheduled again with its counters.
        #expect(log.all == [
            "start 1", "attempt 1#1 server wait=none", "failed 1 server after 1",
            "start 2", "attempt 2#1 server wait=0.05 seconds", "rescheduled 2 in 0.05 seconds after 1",
        ])
        #expect(states.withLock { $0 } == [RetryState(attempts: 1, counted: 1, consecutive: 1)])
    }

    @Test func neverRunsMoreThanTheConcurrencyLimit() async throws {
        let current = Mutex((now: 0, peak: 0))
        let time = ManualTime()
        let runner = JobRunner(concurrency: 3, time: time)
        let run = Task {
            try await runner.run(jobs: AsyncJobs(Array(0..<9)), attempt: { job, _ in
                current.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
                try await time.sleep(for: .seconds(1))
                current.withLock { $0.now -= 1 }
                return "\(job)"
            }, events: { _ in })
        }
        // Three rounds of three jobs: each round waits on the virtual clock until the test moves it.
        for _ in 0..<3 {
            while time.pendingSleepers < 3 { await Task.yield() }
            #expect(time.pendingSleepers == 3)
            time.advance(by: .seconds(1))
        }
        try await run.value
        let peak = current.withLock { $0.peak }
        #expect(peak == 3)
    }

    @Test func retriesRetryableFailuresAndReportsEveryAttemptInOrder() async throws {
        let log = EventLog()
        let time = ManualTime(autoAdvance: true)
        let runner = JobRunner(concurrency: 1, retry: RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(100)),
                               time: time, random: { 0.5 })
        let calls = Mutex(0)
        try await runner.run(jobs: AsyncJobs([7]), attempt: { job, info in
            calls.withLock { $0 += 1 }
            if info.number < 3 { throw Flaky(failureClass: .server) }
            return "ok"
        }, events: { log.add(describe($0)) })
        #expect(log.all == [
            "start 7",
            "attempt 7#1 server wait=0.05 seconds",
            "attempt 7#2 server wait=0.1 seconds",
            "attempt 7#3 ok",
            "done 7 ok after 3",
        ])
        #expect(time.sleeps == [.milliseconds(50), .milliseconds(100)])
        #expect(calls.withLock { $0 } == 3)
    }

    @Test func permanentFailuresAreTriedOnce() async throws {
        let log = EventLog()
        let time = ManualTime(autoAdvance: true)
        let runner = JobRunner(concurrency: 2, time: time)
        try await runner.run(jobs: AsyncJobs([1]), attempt: { _, _ -> String in
            throw Flaky(failureClass: .denied)
        }, events: { log.add(describe($0)) })
        #expect(log.all == ["start 1", "attempt 1#1 denied wait=none", "failed 1 denied after 1"])
        #expect(time.sleeps.isEmpty, "a permanent failure is not waited on")
    }

    @Test func givesUpAfterMaxAttempts() async throws {
        let log = EventLog()
        let time = ManualTime(autoAdvance: true)
        let runner = JobRunner(concurrency: 1, retry: RetryPolicy(maxAttempts: 3), time: time, random: { 0 })
        try await runner.run(jobs: AsyncJobs([2]), attempt: { _, _ -> String in
            throw Flaky(failureClass: .network)
        }, events: { log.add(describe($0)) })
        #expect(log.all.last == "failed 2 network after 3")
        #expect(time.sleeps.count == 2)
    }

    @Test func honoursTheServerHint() async throws {
        let time = ManualTime(autoAdvance: true)
        let runner = JobRunner(concurrency: 1, retry: RetryPolicy(maxAttempts: 2), time: time, random: { 0 })
        try await runner.run(jobs: AsyncJobs([3]), attempt: { _, info -> String in
            if info.number == 1 { throw Flaky(failureClass: .rateLimited, retryAfter: .milliseconds(1500)) }
            return "ok"
        }, events: { _ in })
        #expect(time.sleeps == [.milliseconds(1500)])
    }

    @Test func unclassifiedErrorsAreInternalAndNotRetried() async throws {
        struct Boom: Error {}
        let log = EventLog()
        try await JobRunner(concurrency: 1, time: ManualTime(autoAdvance: true)).run(jobs: AsyncJobs([4]), attempt: { _, _ -> String in throw Boom() },
                                                events: { log.add(describe($0)) })
        #expect(log.all.last == "failed 4 internal after 1")
    }

    @Test func cancellationStopsNewJobsAndCancelsRunningOnes() async throws {
        let log = EventLog()
        let started = Mutex(0)
        let time = ManualTime()
        let task = Task {
            try await JobRunner(concurrency: 2, time: time).run(jobs: AsyncJobs(Array(0..<100)), attempt: { job, _ -> String in
                started.withLock { $0 += 1 }
                try await time.sleep(for: .seconds(30))
                return "\(job)"
            }, events: { log.add(describe($0)) })
        }
        while started.withLock({ $0 }) < 2 || time.pendingSleepers < 2 { await Task.yield() }
        task.cancel()
        try await task.value
        let finished = log.all.filter { $0.hasPrefix("cancelled") }
        #expect(finished.count == 2)
        #expect(started.withLock { $0 } == 2)
    }

    @Test func noJobStartsAfterTheDeadlineAndNoRetryIsScheduledPastIt() async throws {
        let log = EventLog()
        let time = ManualTime(autoAdvance: true)
        let runner = JobRunner(concurrency: 1, retry: RetryPolicy(maxAttempts: 5, baseDelay: .seconds(60)),
                               deadlineAfter: .seconds(4), time: time, random: { 1 })
        try await runner.run(jobs: AsyncJobs([1, 2, 3]), attempt: { job, _ -> String in
            if job == 1 { throw Flaky(failureClass: .server) }
            // Job 2 starts before the deadline and ends after it (on the virtual clock).
            try await time.sleep(for: .milliseconds(4500))
            return "ok"
        }, events: { log.add(describe($0)) })
        // Job 1 fails once and is not retried (the 60 s back-off would end past the deadline); job 2 runs
        // past the deadline and finishes; job 3 never starts.
        #expect(log.all == ["start 1", "attempt 1#1 server wait=none", "failed 1 server after 1",
                            "start 2", "attempt 2#1 ok", "done 2 ok after 1"])
    }

    @Test func attemptsThatAdvanceOrAreThrottledDoNotCountAgainstTheLimit() async throws {
        let log = EventLog()
        let time = ManualTime(autoAdvance: true)
        let runner = JobRunner(concurrency: 1, retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(100)),
                               time: time, random: { 1 })
        try await runner.run(jobs: AsyncJobs([5]), attempt: { _, info -> String in
            switch info.number {
            case 1, 2, 3: throw Flaky(failureClass: .server, madeProgress: true)
            case 4, 5: throw Flaky(failureClass: .rateLimited)
            case 6: throw Flaky(failureClass: .network)
            default: return "ok"
            }
        }, events: { log.add(describe($0)) })
        #expect(log.all.last == "done 5 ok after 7")
        // Back-off restarts when the job advances and grows while it does not.
        #expect(time.sleeps == [.milliseconds(100), .milliseconds(100), .milliseconds(100), .milliseconds(200),
                               .milliseconds(400), .milliseconds(800)])
    }

    @Test func unproductiveAttemptsStopAtTheLimitAndEverythingAtTheHardLimit() async throws {
        let stuck = EventLog()
        try await JobRunner(concurrency: 1, retry: RetryPolicy(maxAttempts: 3), time: ManualTime(autoAdvance: true))
            .run(jobs: AsyncJobs([6]), attempt: { _, _ -> String in throw Flaky(failureClass: .server) },
                 events: { stuck.add(describe($0)) })
        #expect(stuck.all.last == "failed 6 server after 3")
        let throttled = EventLog()
        try await JobRunner(concurrency: 1, retry: RetryPolicy(maxAttempts: 3), time: ManualTime(autoAdvance: true))
            .run(jobs: AsyncJobs([7]), attempt: { _, _ -> String in throw Flaky(failureClass: .rateLimited) },
                 events: { throttled.add(describe($0)) })
        #expect(throttled.all.last == "failed 7 rate_limited after 12")
    }
}
