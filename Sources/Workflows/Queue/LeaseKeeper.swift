import AuditStore
import Foundation
import Synchronization
import Timekeeping

/// Keeps this process's claims alive while their jobs run: a heartbeat every lease/3 renews them (and says this
/// runner lives), a job whose lease was taken over is cancelled at once (its writes would be refused anyway), and
/// every lease/2 expired leases of any runner are rescued, so a runner that died loses its jobs to the others.
final class LeaseKeeper: Sendable {
    let queue: any JobQueue
    /// Lost leases a job may have before it is given up.
    let maxLeasesLost: Int
    let time: any TimeSource
    let progress: any ProgressSink
    private let state = Mutex(State())
    private let loop = Mutex<Task<Void, Never>?>(nil)

    private struct State {
        /// Held claims, and how to stop the attempt running under each (nil while it waits to start).
        var held: [ClaimFence: (@Sendable () -> Void)?] = [:]
        var lost: Set<ClaimFence> = []
    }

    init(queue: any JobQueue, maxLeasesLost: Int = 3, time: any TimeSource, progress: any ProgressSink) {
        self.queue = queue
        self.maxLeasesLost = maxLeasesLost
        self.time = time
        self.progress = progress
    }

    /// Starts heartbeats and rescues (until ``stop()``).
    func start() {
        let task = Task { [self] in
            let beat = queue.lease / 3
            var sinceRescue = Duration.zero
            while !Task.isCancelled {
                do { try await time.sleep(for: beat) } catch { return }
                await heartbeat()
                sinceRescue += beat
                if sinceRescue * 2 >= queue.lease {
                    sinceRescue = .zero
                    _ = await rescue()
                }
            }
        }
        loop.withLock { $0 = task }
    }

    func stop() {
        loop.withLock { $0?.cancel() }
    }

    /// Claims taken: their leases are renewed from now on.
    func hold(_ claims: [JobClaim]) {
        state.withLock { state in for claim in claims { state.held[claim.fence] = .some(nil) } }
    }

    /// The job is back in the queue (its attempt's record said so): its lease is no longer renewed. A job that ended is
    /// kept until a heartbeat finds its deferred finish committed.
    func drop(_ fence: ClaimFence) {
        _ = state.withLock { $0.held.removeValue(forKey: fence) }
    }

    /// Claims held that no attempt has started on (given back when the runner stops early).
    var unstarted: [ClaimFence] { state.withLock { state in state.held.filter { $0.value == nil }.map(\.key) } }

    /// Runs one attempt under `fence`: cancelled as soon as a heartbeat finds the lease lost.
    func guarding<T: Sendable>(_ fence: ClaimFence, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        // An unstructured task (it inherits the task-locals: the attempt's request meter) that the heartbeat can cancel.
        let attempt = Task { try await body() }
        let lostAlready = state.withLock { state -> Bool in
            guard state.held[fence] != nil, !state.lost.contains(fence) else { return true }
            state.held[fence] = .some({ attempt.cancel() })
            return false
        }
        if lostAlready { attempt.cancel() }
        return try await withTaskCancellationHandler { try await attempt.value } onCancel: { attempt.cancel() }
    }

    /// Renews every held lease; forgets those whose finish was committed; cancels the attempts whose lease was lost.
    func heartbeat() async {
        let held = state.withLock { Array($0.held.keys) }
        guard let beat = try? await queue.heartbeat(held) else { return }
        for fence in beat.finished { drop(fence) }
        let lost = beat.lost
        guard !lost.isEmpty else { return }
        let cancels = state.withLock { state -> [@Sendable () -> Void] in
            lost.compactMap { fence in
                state.lost.insert(fence)
                return state.held.removeValue(forKey: fence) ?? nil
            }
        }
        for cancel in cancels { cancel() }
        progress.emit(.warning("warning: \(lost.count) job leases of this runner were taken over by other runners "
                               + "(it did not renew them in time); their attempts are stopped and not recorded"))
    }

    /// Returns expired leases (of any runner) to the queue; says what it did.
    func rescue() async -> RescueResult {
        guard let result = try? await queue.rescueExpired(maxLeasesLost: maxLeasesLost, at: time.wallClock),
              !result.isEmpty else { return RescueResult() }
        var line = "rescued \(result.requeued.count + result.abandoned.count) jobs whose runner stopped renewing its lease"
        if !result.abandoned.isEmpty {
            line += "; \(result.abandoned.count) lost their lease \(maxLeasesLost) times and were given up (lease_lost)"
        }
        progress.emit(.line(line))
        return result
    }
}
