import Foundation
import Synchronization

/// How a run reports progress on stdout.
public enum ProgressStyle: String, Sendable, CaseIterable {
    /// One plain line per finished job, then the summary line.
    case lines
    /// JSON lines: `job_started`, `attempt_failed`, `job_finished`, `run_finished` (for CI).
    case json
    /// Nothing but errors.
    case quiet
}

/// Writes whole lines to stdout and stderr from concurrent tasks without interleaving.
public final class Console: Sendable {
    private let lock = Mutex(())
    public let style: ProgressStyle

    public init(style: ProgressStyle = .lines) {
        self.style = style
    }

    public convenience init(quiet: Bool) {
        self.init(style: quiet ? .quiet : .lines)
    }

    /// A result line on stdout (only in the `lines` style).
    public func line(_ text: String) {
        guard style == .lines else { return }
        write(text + "\n", to: FileHandle.standardOutput)
    }

    /// A progress event as one JSON line on stdout (only in the `json` style); keys are sorted.
    public func event(_ name: String, _ fields: [String: Any?]) {
        guard style == .json else { return }
        var object: [String: Any] = ["event": name]
        for (key, value) in fields { object[key] = value ?? NSNull() }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        write(String(decoding: data, as: UTF8.self) + "\n", to: FileHandle.standardOutput)
    }

    /// Output that is the command's answer (a report, JSON): never suppressed.
    public func output(_ text: String) {
        write(text.utf8.last == UInt8(ascii: "\n") ? text : text + "\n", to: FileHandle.standardOutput)
    }

    /// A diagnostic on stderr.
    public func error(_ text: String) {
        write(text + "\n", to: FileHandle.standardError)
    }

    private func write(_ text: String, to handle: FileHandle) {
        lock.withLock { _ in handle.write(Data(text.utf8)) }
    }
}
