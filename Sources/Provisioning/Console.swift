import Foundation
import Synchronization

/// Writes whole lines to stdout and stderr from concurrent tasks without interleaving.
public final class Console: Sendable {
    private let lock = Mutex(())
    private let quiet: Bool

    public init(quiet: Bool = false) {
        self.quiet = quiet
    }

    /// A result line on stdout (suppressed by `--quiet`).
    public func line(_ text: String) {
        guard !quiet else { return }
        write(text + "\n", to: FileHandle.standardOutput)
    }

    /// Output that is the command's answer (a report, JSON): never suppressed.
    public func output(_ text: String) {
        write(text.hasSuffix("\n") ? text : text + "\n", to: FileHandle.standardOutput)
    }

    /// A diagnostic on stderr.
    public func error(_ text: String) {
        write(text + "\n", to: FileHandle.standardError)
    }

    private func write(_ text: String, to handle: FileHandle) {
        lock.withLock { _ in handle.write(Data(text.utf8)) }
    }
}
