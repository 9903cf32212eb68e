import AuditStore
import Foundation
import Synchronization
import Workflows
#if canImport(Glibc)
import Glibc
#endif

/// How a run reports progress on stdout.
enum ProgressStyle: String, Sendable, CaseIterable {
    /// One plain line per finished job, then the summary line; on a terminal, a live status line instead
    /// (failed and cancelled jobs still get their line).
    case lines
    /// JSON lines: `job_started`, `attempt_failed`, `rate_limited`, `job_finished`, `run_finished` (for CI).
    case json
    /// Nothing but errors.
    case quiet
}

/// Draws the terminal: writes whole lines to stdout and stderr from concurrent tasks without interleaving, and
/// renders a run's ``ProgressEvent``s in the chosen style.
///
/// In the `lines` style with stdout on a terminal, a run shows one status line at the bottom (``StatusLine``),
/// redrawn in place; every other line is written above it.
final class Console: ProgressSink {
    let style: ProgressStyle
    /// Whether runs show the live status line: the `lines` style with stdout on a terminal.
    let showsStatusLine: Bool

    /// The status line of the run in progress and its redraw timer. One per process, like stdout, so that every
    /// console (the command's and the interrupt handler's) writes above it.
    private static let terminal = Mutex(Terminal())

    private struct Terminal {
        var status: StatusLine?
        var ticker: Task<Void, Never>?
    }

    /// - Parameter isTerminal: whether stdout is a terminal (default: asks `isatty`).
    init(style: ProgressStyle = .lines, isTerminal: Bool = isatty(STDOUT_FILENO) == 1) {
        self.style = style
        self.showsStatusLine = style == .lines && isTerminal
    }

    /// A result line on stdout (only in the `lines` style).
    func line(_ text: String) {
        guard style == .lines else { return }
        write(text + "\n", to: .out)
    }

    /// Output that is the command's answer (a report, JSON): never suppressed.
    func output(_ text: String) {
        write(text.utf8.last == UInt8(ascii: "\n") ? text : text + "\n", to: .out)
    }

    /// A diagnostic on stderr.
    func error(_ text: String) {
        write(text + "\n", to: .err)
    }

    fileprivate func write(_ text: String, to stream: Stream) {
        Self.terminal.withLock { terminal in Self.above(terminal.status, text, to: stream) }
    }
}

// MARK: Progress events

extension Console {
    func emit(_ event: ProgressEvent) {
        switch event {
        case let .runStarted(total, bytes):
            beginRun(total: total, bytes: bytes)
        case .bytesSent(let count):
            if showsStatusLine { Self.terminal.withLock { $0.status?.sent(count) } }
        case .jobStarted(let job):
            if showsStatusLine { Self.terminal.withLock { $0.status?.jobStarted(at: .now) } }
            json("job_started", ["run_id": job.runID, "job_id": job.jobID, "service": job.service,
                                 "repository": job.target, "target": job.target])
        case .attemptFailed(let attempt):
            json("attempt_failed", ["run_id": attempt.runID, "job_id": attempt.jobID, "service": attempt.service,
                                    "attempt": attempt.attempt, "class": attempt.errorClass,
                                    "http_status": attempt.httpStatus, "error_code": attempt.errorCode,
                                    "message": attempt.message, "wait_ms": attempt.waitMs])
        case .rateLimited(let pause):
            rateLimited(pause)
        case .jobFinished(let job):
            jobFinished(job)
        case .runFinished(let run):
            endRun()
            line(run.line)
            if style == .json, let data = try? JSONEncoder().encode(run.summary),
               let fields = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                json("run_finished", fields.merging(["audit_db": run.auditLog]) { old, _ in old })
            }
        case .line(let text):
            line(text)
        case .warning(let text):
            endRun()
            error(text)
        }
    }

    /// A progress event as one JSON line on stdout (only in the `json` style); keys are sorted.
    private func json(_ name: String, _ fields: [String: Any?]) {
        guard style == .json else { return }
        var object: [String: Any] = ["event": name]
        for (key, value) in fields { object[key] = value ?? NSNull() }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        write(String(decoding: data, as: UTF8.self) + "\n", to: .out)
    }

    private func jobFinished(_ job: ProgressEvent.JobFinished) {
        json("job_finished", [
            "run_id": job.runID, "job_id": job.jobID, "service": job.service, "repository": job.target,
            "target": job.target, "status": job.status.rawValue, "error_class": job.errorClass,
            "error_message": job.errorMessage, "digest": job.digest, "bytes_sent": job.bytesSent,
            "tags": job.items.map { ["tag": $0.item, "action": $0.action, "digest": $0.digest as Any] },
        ])
        guard style == .lines else { return }
        let outcome: StatusLine.Outcome = switch job.outcome {
        case .ok: .ok
        case .skipped: .skipped
        case .failed: .failed
        case .cancelled: .cancelled
        }
        Self.terminal.withLock { terminal in
            guard showsStatusLine, terminal.status != nil else {
                return Self.above(terminal.status, job.line + "\n", to: .out)
            }
            terminal.status?.jobFinished(outcome)
            let permanent = outcome == .failed || outcome == .cancelled ? job.line + "\n" : ""
            Self.above(terminal.status, permanent, to: .out)
        }
    }

    /// The rate limiter paused every worker: a note on the status line (terminal), the message on stderr (`lines`
    /// style otherwise), a `rate_limited` event (`json`), nothing when quiet.
    private func rateLimited(_ pause: ProgressEvent.RateLimited) {
        switch style {
        case .lines where showsStatusLine:
            Self.terminal.withLock { terminal in
                guard terminal.status != nil else { return Self.above(nil, pause.message + "\n", to: .err) }
                terminal.status?.paused(by: pause.registry, for: .milliseconds(pause.pauseMs), at: .now)
                Self.above(terminal.status, "", to: .out)
            }
        case .lines:
            error(pause.message)
        case .json:
            json("rate_limited", ["run_id": pause.runID, "registry": pause.registry, "reason": pause.reason,
                                  "pause_ms": pause.pauseMs, "rate_after": pause.rateAfter])
        case .quiet:
            break
        }
    }
}

// MARK: The status line

extension Console {
    /// A run of `total` jobs (and up to `bytes` content bytes) begins: on a terminal, draws the status line and
    /// redraws it every 200 ms until `endRun()`.
    func beginRun(total: Int, bytes: Int64 = 0) {
        guard showsStatusLine else { return }
        let ticker = Task {
            while true {
                do { try await Task.sleep(for: .milliseconds(200)) } catch { return }
                Self.terminal.withLock { terminal in Self.above(terminal.status, "", to: .out) }
            }
        }
        let previous = Self.terminal.withLock { terminal in
            let previous = terminal.ticker
            terminal.status = StatusLine(total: total, bytes: bytes)
            terminal.ticker = ticker
            Self.above(terminal.status, "", to: .out)
            return previous
        }
        previous?.cancel()
    }

    /// The run is over: stops the redraws and clears the status line. Safe to call more than once.
    func endRun() {
        let ticker = Self.terminal.withLock { terminal in
            let ticker = terminal.ticker
            if terminal.status != nil { Stream.out.write(Self.clear) }
            terminal.status = nil
            terminal.ticker = nil
            return ticker
        }
        ticker?.cancel()
    }

    /// Back to the start of the line, and erase it.
    static let clear = "\r\u{1B}[K"

    /// Standard output or standard error.
    enum Stream {
        case out, err

        func write(_ text: String) {
            guard !text.isEmpty else { return }
            (self == .out ? FileHandle.standardOutput : FileHandle.standardError).write(Data(text.utf8))
        }
    }

    /// Writes `text` to `stream`; with a status line shown, clears it first and redraws it after.
    fileprivate static func above(_ status: StatusLine?, _ text: String, to stream: Stream) {
        guard let status else { return stream.write(text) }
        let redraw = "\r" + status.render(width: width(), at: .now) + "\u{1B}[K"
        if stream == .out {
            Stream.out.write(text.isEmpty ? redraw : clear + text + redraw)
        } else {
            Stream.out.write(clear)
            stream.write(text)
            Stream.out.write(redraw)
        }
    }

    /// Columns for the status line: at most 80, and one less than the terminal's so it never wraps.
    private static func width() -> Int {
        var size = winsize()
        let columns = ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 81
        return max(10, min(80, columns - 1))
    }
}
