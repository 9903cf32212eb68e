import Dispatch
import Foundation

/// SIGINT/SIGTERM handling: the first signal cancels the running command (no new jobs start, requests
/// in flight are cancelled, unfinished jobs are recorded as `cancelled`); a second one exits 130 at once.
/// Either way the audit database stays consistent: every write is a SQLite transaction.
final class InterruptHandler {
    private let sources: [any DispatchSourceSignal]

    init(console: Console, onFirst: @escaping @Sendable () -> Void) {
        let count = Counter()
        sources = [SIGINT, SIGTERM].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                if count.increment() == 1 {
                    console.error("interrupted: finishing the jobs in flight; press Ctrl-C again to stop at once")
                    onFirst()
                } else {
                    console.error("interrupted again: stopping now (resume with stevedore resume)")
                    exit(ExitStatus.interrupted.rawValue)
                }
            }
            source.resume()
            return source
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0

        func increment() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value
        }
    }
}
