import Foundation
import Timekeeping

/// The counts behind the one-line status a run shows at the bottom of a terminal, and how that line reads:
/// `[ 412/1000] 398 ok  3 skipped  11 failed  | 38.2 jobs/s  ETA 0:15`.
///
/// A pure value: the caller passes the clock readings, so rendering is deterministic.
struct StatusLine: Sendable, Equatable {
    /// How a job ended, as the status line counts it.
    enum Outcome: Sendable {
        case ok, skipped, failed, cancelled
    }

    /// A pause of every worker by the rate limiter, shown until it is over.
    struct Pause: Sendable, Equatable {
        var registry: String
        var duration: Duration
        var until: ContinuousClock.Instant
    }

    /// ETA stays `--:--` until this many jobs have finished.
    static let jobsBeforeETA = 3

    let total: Int
    /// Content bytes the run may send (0: a run without content to speak of, like the placeholder's).
    let bytes: Int64
    private(set) var bytesSent: Int64 = 0
    private(set) var ok = 0
    private(set) var skipped = 0
    private(set) var failed = 0
    private(set) var cancelled = 0
    /// When the first job started; the rate counts from there.
    private(set) var firstStart: ContinuousClock.Instant?
    private(set) var pause: Pause?

    init(total: Int, bytes: Int64 = 0) {
        self.total = total
        self.bytes = bytes
    }

    /// Content bytes sent.
    mutating func sent(_ count: Int64) { bytesSent += count }

    var finished: Int { ok + skipped + failed + cancelled }

    /// Notes a job start (only the first one matters).
    mutating func jobStarted(at now: ContinuousClock.Instant) {
        if firstStart == nil { firstStart = now }
    }

    mutating func jobFinished(_ outcome: Outcome) {
        switch outcome {
        case .ok: ok += 1
        case .skipped: skipped += 1
        case .failed: failed += 1
        case .cancelled: cancelled += 1
        }
    }

    /// Notes that `registry` paused every worker for `duration` from `now` (a pause of zero is not shown).
    mutating func paused(by registry: String, for duration: Duration, at now: ContinuousClock.Instant) {
        guard duration > .zero else { return }
        pause = Pause(registry: registry, duration: duration, until: now + duration)
    }

    /// Finished jobs per second since the first job started (nil before any start or elapsed time).
    func rate(at now: ContinuousClock.Instant) -> Double? {
        guard let firstStart else { return nil }
        let elapsed = (now - firstStart).seconds
        return elapsed > 0 ? Double(finished) / elapsed : nil
    }

    /// Seconds left at the current rate (nil until `jobsBeforeETA` jobs have finished).
    func eta(at now: ContinuousClock.Instant) -> Double? {
        guard finished >= Self.jobsBeforeETA, let rate = rate(at: now), rate > 0 else { return nil }
        return Double(max(0, total - finished)) / rate
    }

    /// The line, at most `width` characters. When everything does not fit, a pause note wins over the
    /// rate and ETA (they mean little while every worker waits); what still does not fit is cut off.
    func render(width: Int = 80, at now: ContinuousClock.Instant) -> String {
        let digits = String(total).count
        let done = String(repeating: " ", count: max(0, digits - String(finished).count)) + String(finished)
        var counts = "[\(done)/\(total)] \(ok) ok  \(skipped) skipped  \(failed) failed"
        if cancelled > 0 { counts += "  \(cancelled) cancelled" }
        let rateText = rate(at: now).map(DurationText.oneDecimal) ?? "0.0"
        var speed = "  | \(rateText) jobs/s  ETA \(eta(at: now).map(Self.clock) ?? "--:--")"
        if bytes > 0 { speed = "  | " + byteProgress(at: now) }
        var text = counts + speed
        if let pause, now < pause.until {
            let note = "  | rate-limited by \(pause.registry): paused \(DurationText.oneDecimal(pause.duration.seconds))s"
            text = (text + note).count <= width ? text + note : counts + note
        }
        return String(text.prefix(max(0, width)))
    }

    static func clock(_ seconds: Double) -> String { DurationText.clock(seconds: seconds) }

    /// `42.1/90.3 MB  11.2 MB/s  ETA 0:04`: by bytes, which is what takes the time when images are large. Mounted
    /// blobs cost nothing, so the ETA is an upper bound.
    func byteProgress(at now: ContinuousClock.Instant) -> String {
        let megabytes = { (count: Int64) in DurationText.oneDecimal(Double(count) / 1e6) }
        let elapsed = firstStart.map { (now - $0).seconds } ?? 0
        let speed = elapsed > 0 ? Double(bytesSent) / elapsed : 0
        let eta = speed > 0 ? Self.clock(Double(max(0, bytes - bytesSent)) / speed) : "--:--"
        return "\(megabytes(min(bytesSent, bytes)))/\(megabytes(bytes)) MB  \(megabytes(Int64(speed))) MB/s  ETA \(eta)"
    }
}
