import Foundation
import Synchronization

/// Where a component reads the time and how it waits: one value injected wherever time matters (the runner's
/// deadline and back-off, the rate limiter, the token cache, recorded timestamps), so tests run on a virtual
/// clock instead of sleeping.
///
/// `monotonic` is for intervals and deadlines (it never jumps); `wallClock` is for what gets recorded.
public protocol TimeSource: Sendable {
    /// Monotonic time since an arbitrary origin fixed for the life of the value.
    var monotonic: Duration { get }
    /// The wall clock, for timestamps that are recorded or compared with other machines.
    var wallClock: Date { get }
    /// Suspends for `duration` of this source's time; throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// The real clocks: `ContinuousClock`, `Date()` and `Task.sleep`.
public struct SystemTime: TimeSource {
    private static let origin = ContinuousClock.now

    public init() {}

    public var monotonic: Duration { ContinuousClock.now - Self.origin }
    public var wallClock: Date { Date() }

    public func sleep(for duration: Duration) async throws {
        guard duration > .zero else { return try Task.checkCancellation() }
        try await Task.sleep(for: duration)
    }
}

/// A virtual clock for tests: time moves only when told to, or, with `autoAdvance`, by exactly as much as
/// each `sleep` asks for (so code that waits runs at once, and the waits still add up on the clock).
public final class ManualTime: TimeSource {
    private struct Sleeper {
        let until: Duration
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Duration = .zero
        var wall: Date
        var sleepers: [Int: Sleeper] = [:]
        var nextID = 0
        /// Every sleep requested, in order.
        var slept: [Duration] = []
    }

    private let state: Mutex<State>
    /// Each sleep advances the clock by its own duration and returns immediately.
    public let autoAdvance: Bool

    public init(wallClock: Date = Date(timeIntervalSince1970: 1_790_000_000), autoAdvance: Bool = false) {
        self.state = Mutex(State(wall: wallClock))
        self.autoAdvance = autoAdvance
    }

    public var monotonic: Duration { state.withLock { $0.now } }
    public var wallClock: Date {
        state.withLock { $0.wall.addingTimeInterval($0.now.seconds) }
    }

    /// Every sleep requested so far, in order.
    public var sleeps: [Duration] { state.withLock { $0.slept } }

    /// Sleepers not yet woken.
    public var pendingSleepers: Int { state.withLock { $0.sleepers.count } }

    public func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        if autoAdvance {
            advance(by: duration, recording: true)
            await Task.yield()
            return try Task.checkCancellation()
        }
        guard duration > .zero else { return }
        let id = state.withLock { state -> Int in
            state.slept.append(duration)
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { state -> Bool in
                    if Task.isCancelled { return true }
                    state.sleepers[id] = Sleeper(until: state.now + duration, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward and wakes every sleeper whose time has come.
    public func advance(by duration: Duration) {
        advance(by: duration, recording: false)
    }

    private func advance(by duration: Duration, recording: Bool) {
        let due = state.withLock { state -> [Sleeper] in
            if recording { state.slept.append(duration) }
            state.now += max(duration, .zero)
            let ready = state.sleepers.filter { $0.value.until <= state.now }
            for id in ready.keys { state.sleepers[id] = nil }
            return ready.sorted { $0.key < $1.key }.map(\.value)
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}
