import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How a run reports progress on stdout.
public enum ProgressStyle: String, Sendable, CaseIterable {
    /// One plain line per finished job, then the summary line; on a terminal, a live status line instead
    /// (failed and cancelled jobs still get their line).
    case lines
    /// JSON lines: `job_started`, `attempt_failed`, `rate_limited`, `job_finished`, `run_finished` (for CI).
    case json
    /// Nothing but errors.
    case quiet
}

/// Writes whole lines to stdout and stderr from concurrent tasks without interleaving.
///
/// In the `lines` style with stdout on a terminal, a run shows one status line at the bottom (see
/// `StatusLine`), redrawn in place; every other line is written above it.
public final class Console: Sendable {
    public let style: ProgressStyle
    /// Whether runs show the live status line: the `lines` style with stdout on a terminal.
    public let showsStatusLine: Bool

    /// The status line of the run in progress and its redraw timer. One per process, like stdout, so that
    /// every console (the command's and the interrupt handler's) writes above it.
    private static let terminal = Mutex(Terminal())

    private struct Terminal {
        var status: StatusLine?
        var ticker: Task<Void, Never>?
    }

    /// - Parameter isTerminal: whether stdout is a terminal (default: asks `isatty`).
    public init(style: ProgressStyle = .lines, isTerminal: Bool = isatty(STDOUT_FILENO) == 1) {
        self.style = style
        self.showsStatusLine = style == .lines && isTerminal
    }

    public convenience init(quiet: Bool) {
        self.init(style: quiet ? .quiet : .lines)
    }

    /// A result line on stdout (only in the `lines` style).
    public func line(_ text: String) {
        guard style == .lines else { return }
        write(text + "\n", to: .out)
    }

    /// A progress event as one JSON line on stdout (only in the `json` style); keys are sorted.
    public func event(_ name: String, _ fields: [String: Any?]) {
        guard style == .json else { return }
        var object: [String: Any] = ["event": name]
        for (key, value) in fields { object[key] = value ?? NSNull() }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        write(String(decoding: data, as: UTF8.self) + "\n", to: .out)
    }

    /// Output that is the command's answer (a report, JSON): never suppressed.
    public func output(_ text: String) {
        write(text.utf8.last == UInt8(ascii: "\n") ? text : text + "\n", to: .out)
    }

    /// A diagnostic on stderr.
    public func error(_ text: String) {
        write(text + "\n", to: .err)
    }

    private func write(_ text: String, to stream: Stream) {
        Self.terminal.withLock { terminal in Self.above(terminal.status, text, to: stream) }
    }
}

// MARK: Runs

extension Console {
    /// A run of `total` jobs begins: on a terminal, draws the status line and redraws it every 200 ms
    /// until `endRun()`.
    public func beginRun(total: Int) {
        guard showsStatusLine else { return }
        let ticker = Task {
            while true {
                do { try await Task.sleep(for: .milliseconds(200)) } catch { return }
                Self.terminal.withLock { terminal in Self.above(terminal.status, "", to: .out) }
            }
        }
        let previous = Self.terminal.withLock { terminal in
            let previous = terminal.ticker
            terminal.status = StatusLine(total: total)
            terminal.ticker = ticker
            Self.above(terminal.status, "", to: .out)
            return previous
        }
        previous?.cancel()
    }

    /// The run is over: stops the redraws and clears the status line. Safe to call more than once.
    public func endRun() {
        let ticker = Self.terminal.withLock { terminal in
            let ticker = terminal.ticker
            if terminal.status != nil { Stream.out.write(Self.clear) }
            terminal.status = nil
            terminal.ticker = nil
            return ticker
        }
        ticker?.cancel()
    }

    /// A job started (the status line's rate counts from the first one).
    public func jobStarted() {
        guard showsStatusLine else { return }
        Self.terminal.withLock { terminal in terminal.status?.jobStarted(at: .now) }
    }

    /// A job finished with `text` as its result line: printed in the `lines` style, except that on a
    /// terminal only failed and cancelled jobs get a line and the others are counted on the status line.
    public func jobFinished(_ outcome: StatusLine.Outcome, line text: String) {
        guard style == .lines else { return }
        Self.terminal.withLock { terminal in
            guard showsStatusLine, terminal.status != nil else {
                return Self.above(terminal.status, text + "\n", to: .out)
            }
            terminal.status?.jobFinished(outcome)
            let permanent = outcome == .failed || outcome == .cancelled ? text + "\n" : ""
            Self.above(terminal.status, permanent, to: .out)
        }
    }

    /// The rate limiter paused every worker: a note on the status line (terminal), `message` on stderr
    /// (`lines` style otherwise), a `rate_limited` event with `fields` (`json`), nothing when quiet.
    public func rateLimited(by registry: String, for duration: Duration, message: String, fields: [String: Any?]) {
        switch style {
        case .lines where showsStatusLine:
            Self.terminal.withLock { terminal in
                guard terminal.status != nil else { return Self.above(nil, message + "\n", to: .err) }
                terminal.status?.paused(by: registry, for: duration, at: .now)
                Self.above(terminal.status, "", to: .out)
            }
        case .lines:
            error(message)
        case .json:
            event("rate_limited", fields)
        case .quiet:
            break
        }
    }
}

// MARK: Drawing

extension Console {
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
    private static func above(_ status: StatusLine?, _ text: String, to stream: Stream) {
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
