import AuditStore
import Synchronization

/// Group commit for ``PostgresAuditStore/finishJobDeferred(_:)``: finishes queue up for at most ``linger`` or until
/// ``batch`` of them wait, and one transaction takes all of them; a write or a flush that waits for them cuts the
/// linger short. The linger is longer than the SQLite store's 100 ms: every transaction here is several round trips to
/// a server (docs/PERFORMANCE.md, scale-out: one runner's audit share was 10.6 % at 100 ms, 4.0 % at 500 ms).
/// ``wait()`` returns once the queue is empty and nothing is being written, with the first error a deferred write met
/// since the last wait.
final class DeferredFinishes: Sendable {
    static let linger: Duration = .milliseconds(500)
    static let batch = 32

    private struct State {
        var queue: [JobFinish] = []
        var draining = false
        /// When the oldest queued finish came.
        var oldest: ContinuousClock.Instant?
        /// Someone waits for the queue: no more lingering.
        var urgent = false
        var firstError: AuditStoreError?
        var waiters: [CheckedContinuation<AuditStoreError?, Never>] = []
    }

    private let state = Mutex(State())

    /// Queues `finish`; starts a drain with `write` unless one is running.
    func add(_ finish: JobFinish, write: @escaping @Sendable ([JobFinish]) async -> AuditStoreError?) {
        let start = state.withLock { state -> Bool in
            if state.queue.isEmpty { state.oldest = .now }
            state.queue.append(finish)
            guard !state.draining else { return false }
            state.draining = true
            return true
        }
        guard start else { return }
        Task { await self.drain(write) }
    }

    private func drain(_ write: @Sendable ([JobFinish]) async -> AuditStoreError?) async {
        while true {
            await lingerForMore()
            let batch = state.withLock { state -> [JobFinish] in
                defer { state.queue = []; state.oldest = nil }
                return state.queue
            }
            if batch.isEmpty {
                // Re-checked under the lock: a finish added since the batch was taken is drained by this loop.
                let done = state.withLock { state -> (waiters: [CheckedContinuation<AuditStoreError?, Never>], error: AuditStoreError?)? in
                    guard state.queue.isEmpty else { return nil }
                    state.draining = false
                    state.urgent = false
                    defer { state.waiters = []; state.firstError = nil }
                    return (state.waiters, state.firstError)
                }
                guard let done else { continue }
                for waiter in done.waiters { waiter.resume(returning: done.error) }
                return
            }
            if let error = await write(batch) {
                state.withLock { state in if state.firstError == nil { state.firstError = error } }
            }
        }
    }

    /// Waits until the oldest queued finish has lingered long enough, a batch is full, or someone waits.
    private func lingerForMore() async {
        while true {
            let ready = state.withLock { state in
                state.urgent || state.queue.count >= Self.batch
                    || state.oldest.map { ContinuousClock.now - $0 >= Self.linger } ?? true
            }
            if ready { return }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits until nothing is queued or being written, leaving the first error for ``wait()``: other writes call it
    /// first, so they land after every finish deferred before them, as on the SQLite store's single writer.
    func idle() async {
        let busy = state.withLock { $0.draining || !$0.queue.isEmpty }
        guard busy else { return }
        let error = await wait()
        if let error { state.withLock { state in if state.firstError == nil { state.firstError = error } } }
    }

    /// Waits for every queued finish to be committed; returns the first error since the last wait.
    func wait() async -> AuditStoreError? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> AuditStoreError?? in
                guard state.draining || !state.queue.isEmpty else {
                    defer { state.firstError = nil }
                    return .some(state.firstError)
                }
                state.urgent = true
                state.waiters.append(continuation)
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
