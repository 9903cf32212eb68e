@testable import StevedoreCLI
import Testing

@Suite struct StatusLineTests {
    let start = ContinuousClock.now

    /// A line for `total` jobs, the first started at `start`, with the given outcomes.
    func line(total: Int, ok: Int = 0, skipped: Int = 0, failed: Int = 0, cancelled: Int = 0) -> StatusLine {
        var line = StatusLine(total: total)
        line.jobStarted(at: start)
        for _ in 0..<ok { line.jobFinished(.ok) }
        for _ in 0..<skipped { line.jobFinished(.skipped) }
        for _ in 0..<failed { line.jobFinished(.failed) }
        for _ in 0..<cancelled { line.jobFinished(.cancelled) }
        return line
    }

    @Test func showsCountsRateAndETA() {
        let status = line(total: 1000, ok: 398, skipped: 3, failed: 11)
        // 412 jobs in 10 s: 41.2 jobs/s; 588 left: 14.3 s, rounded up.
        #expect(status.render(width: 80, at: start + .seconds(10))
            == "[ 412/1000] 398 ok  3 skipped  11 failed  | 41.2 jobs/s  ETA 0:15")
        #expect(status.finished == 412)
    }

    @Test func anImageRunShowsBytesSpeedAndETAByBytes() {
        var status = StatusLine(total: 20, bytes: 90_000_000)
        status.jobStarted(at: start)
        status.sent(30_000_000)
        status.jobFinished(.ok)
        // 30 of 90 MB in 10 s: 3.0 MB/s, 60 MB left: 20 s.
        #expect(status.render(width: 120, at: start + .seconds(10))
            == "[ 1/20] 1 ok  0 skipped  0 failed  | 30.0/90.0 MB  3.0 MB/s  ETA 0:20")
        // More sent than planned (a retried upload) never shows more than the total.
        status.sent(70_000_000)
        #expect(status.render(width: 120, at: start + .seconds(20)).contains("90.0/90.0 MB  5.0 MB/s  ETA 0:00"))
    }

    @Test func countsCancelledJobsOnlyWhenThereAreSome() {
        #expect(!line(total: 5, ok: 1).render(at: start + .seconds(1)).contains("cancelled"))
        #expect(line(total: 5, ok: 1, cancelled: 2).render(at: start + .seconds(1))
            .hasPrefix("[3/5] 1 ok  0 skipped  0 failed  2 cancelled  |"))
    }

    @Test func etaWaitsForThreeFinishedJobs() {
        #expect(StatusLine(total: 10).render(at: start) == "[ 0/10] 0 ok  0 skipped  0 failed  | 0.0 jobs/s  ETA --:--")
        let two = line(total: 10, ok: 2)
        #expect(two.eta(at: start + .seconds(1)) == nil)
        #expect(two.render(at: start + .seconds(1)).hasSuffix("| 2.0 jobs/s  ETA --:--"))
        let three = line(total: 10, ok: 3)
        #expect(three.eta(at: start + .seconds(1)) == 7.0 / 3.0)
        #expect(three.render(at: start + .seconds(1)).hasSuffix("| 3.0 jobs/s  ETA 0:03"))
    }

    @Test func rateCountsFromTheFirstStartedJob() {
        var status = StatusLine(total: 100)
        #expect(status.rate(at: start) == nil)
        status.jobStarted(at: start)
        status.jobStarted(at: start + .seconds(5))
        for _ in 0..<20 { status.jobFinished(.ok) }
        #expect(status.rate(at: start + .seconds(8)) == 2.5)
        // 80 left at 2.5 jobs/s.
        #expect(status.render(at: start + .seconds(8)).hasSuffix("| 2.5 jobs/s  ETA 0:32"))
    }

    @Test func longRunsShowHoursInTheETA() {
        let status = line(total: 100_000, ok: 10)
        // 10 jobs in 10 s: 99 990 s left.
        #expect(status.render(at: start + .seconds(10)).hasSuffix("ETA 27:46:30"))
    }

    @Test func notesARateLimiterPauseWhileItLasts() {
        var status = line(total: 20, ok: 4)
        let pausedAt = start + .seconds(2)
        status.paused(by: "ghcr.io", for: .milliseconds(2000), at: pausedAt)
        #expect(status.render(width: 120, at: pausedAt + .milliseconds(500))
            == "[ 4/20] 4 ok  0 skipped  0 failed  | 1.6 jobs/s  ETA 0:10  | rate-limited by ghcr.io: paused 2.0s")
        // In 80 columns the pause note wins over the rate and ETA.
        #expect(status.render(width: 80, at: pausedAt + .milliseconds(500))
            == "[ 4/20] 4 ok  0 skipped  0 failed  | rate-limited by ghcr.io: paused 2.0s")
        // A pause of zero (`Retry-After: 0`) is no news.
        var instant = line(total: 20, ok: 4)
        instant.paused(by: "ghcr.io", for: .zero, at: pausedAt)
        #expect(instant.pause == nil)
        // Once the pause is over the note goes.
        #expect(status.render(width: 120, at: pausedAt + .seconds(2)) == "[ 4/20] 4 ok  0 skipped  0 failed  | 1.0 jobs/s  ETA 0:16")
    }

    @Test func fitsEightyColumns() {
        var status = line(total: 1000, ok: 398, skipped: 3, failed: 11)
        let now = start + .seconds(10)
        status.paused(by: "ghcr.io", for: .seconds(2), at: now)
        let exact = status.render(width: 80, at: now)
        #expect(exact == "[ 412/1000] 398 ok  3 skipped  11 failed  | rate-limited by ghcr.io: paused 2.0s")
        #expect(exact.count == 80)

        var big = line(total: 100_000, ok: 41_200, skipped: 3_000, failed: 11_000, cancelled: 9)
        let later = start + .seconds(100)
        let full = big.render(width: 200, at: later)
        #expect(full == "[ 55209/100000] 41200 ok  3000 skipped  11000 failed  9 cancelled  | 552.1 jobs/s  ETA 1:22")
        // What does not fit is cut off.
        #expect(big.render(width: 80, at: later) == String(full.prefix(80)))
        big.paused(by: "registry.example.com:5000", for: .seconds(1), at: later)
        let paused = big.render(width: 80, at: later)
        #expect(paused == "[ 55209/100000] 41200 ok  3000 skipped  11000 failed  9 cancelled  | rate-limite")
        #expect(paused.count == 80)
        #expect(big.render(width: 30, at: later) == "[ 55209/100000] 41200 ok  3000")
    }
}
