import Foundation
import Synchronization

/// A fixture's server process and the temporary directory it runs in, with the lifetime every fixture wants:
/// `stop()` once (SIGTERM, then SIGKILL after 5 s, then the directory removed), and a test that threw before
/// stopping it gets the process killed and the directory removed when the fixture goes away.
final class FixtureServer: Sendable {
    let process: ChildProcess
    let directory: TempDirectory
    private let stopped = Mutex(false)

    init(process: ChildProcess, directory: TempDirectory) {
        self.process = process
        self.directory = directory
    }

    /// Stops the process and removes the directory. Safe to call twice.
    func stop() async {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        process.signal(SIGTERM)
        _ = try? await process.wait(timeout: .seconds(5))
        directory.remove()
    }

    /// The process ended by itself (a start that lost its port): nothing to stop, and the directory stays for the
    /// next try.
    func forget() { stopped.withLock { $0 = true } }

    deinit {
        if !stopped.withLock({ $0 }) {
            process.terminateNow()
            directory.remove()
        }
    }
}
