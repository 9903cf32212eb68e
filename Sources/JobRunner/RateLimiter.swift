import Synchronization

/// Paces requests to one host: a token bucket shared by every worker, that pauses the whole host
/// when the server says it is throttling, backs the rate off and lets it recover gradually.
///
/// Time is injected (`now`, `sleep`), so the pacing is tested with a virtual clock, not sleeps.
/// Reservations are first come, first served: each caller is given the next free send time.
public final class RateLimiter: Sendable {
    /// Something the limiter did that is worth recording.
    public struct Pause: Sendable, Equatable {
        public let duration: Duration
        /// The rate after backing off, requests per second (nil: unlimited).
        public let rateAfter: Double?
        public let reason: String
    }

    public struct Configuration: Sendable, Equatable {
        /// Requests per second; nil means unlimited until the server throttles.
        public var rate: Double?
        /// Requests that may go back to back after an idle period.
        public var burst: Int
        /// Pause used when a throttling answer carries no hint.
        public var defaultPause: Duration
        /// How often the rate may grow back after a throttle, and by what factor.
        public var recoveryInterval: Duration
        public var recoveryFactor: Double
        /// Multiplier applied to the rate on each throttle.
        public var backoffFactor: Double
        public var minimumRate: Double

        public init(rate: Double? = nil, burst: Int = 8, defaultPause: Duration = .seconds(1),
                    recoveryInterval: Duration = .seconds(2), recoveryFactor: Double = 1.25,
                    backoffFactor: Double = 0.5, minimumRate: Double = 0.5) {
            self.rate = rate
            self.burst = max(1, burst)
            self.defaultPause = defaultPause
            self.recoveryInterval = recoveryInterval
            self.recoveryFactor = recoveryFactor
            self.backoffFactor = backoffFactor
            self.minimumRate = minimumRate
        }
    }

    private struct State {
        var rate: Double?
        /// The rate to recover to: the configured one, or for an unlimited host the rate observed
        /// when it first throttled (reaching it again makes the host unlimited again).
        var target: Double?
        /// Theoretical time the next request is due (GCRA), as an offset on the injected clock.
        var due: Duration = .zero
        var pausedUntil: Duration = .zero
        var lastChange: Duration = .zero
        /// Send times of recent requests, to estimate the rate when an unlimited host throttles.
        var recent: [Duration] = []
    }

    public let configuration: Configuration
    private let state: Mutex<State>
    private let now: @Sendable () -> Duration
    private let sleep: @Sendable (Duration) async throws -> Void

    public init(_ configuration: Configuration,
                now: @escaping @Sendable () -> Duration = RateLimiter.monotonicNow,
                sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }) {
        self.configuration = configuration
        self.state = Mutex(State(rate: configuration.rate, target: configuration.rate))
        self.now = now
        self.sleep = sleep
    }

    /// The current rate in requests per second (nil: unlimited).
    public var currentRate: Double? { state.withLock { $0.rate } }

    /// Waits until the next request may be sent; returns how long it waited.
    @discardableResult
    public func acquire() async throws -> Duration {
        let wait = reserve(at: now())
        if wait > .zero { try await sleep(wait) }
        return wait
    }

    /// Books the next send slot at time `t` and returns how long to wait for it.
    public func reserve(at t: Duration) -> Duration {
        state.withLock { state in
            recover(&state, at: t)
            var start = max(t, state.pausedUntil)
            if let rate = state.rate {
                let interval = Duration.seconds(1 / rate)
                let tolerance = interval * Double(configuration.burst - 1)
                let earliest = state.due - tolerance
                start = max(start, earliest)
                state.due = max(state.due, start) + interval
            }
            state.recent.append(start)
            if state.recent.count > 64 { state.recent.removeFirst(state.recent.count - 64) }
            return start - t
        }
    }

    /// The server throttled (429, or a secondary rate limit): pause every worker for `hint`
    /// (or the default pause) and halve the rate. Returns the pause to record.
    @discardableResult
    public func throttled(hint: Duration?, at t: Duration? = nil, reason: String = "rate limited") -> Pause {
        let t = t ?? now()
        return state.withLock { state in
            let pause = hint ?? configuration.defaultPause
            state.pausedUntil = max(state.pausedUntil, t + pause)
            if state.rate == nil {
                state.rate = Self.observedRate(state.recent, at: t) ?? 10
                state.target = state.rate
            }
            state.rate = max(configuration.minimumRate, state.rate! * configuration.backoffFactor)
            state.due = max(state.due, state.pausedUntil)
            state.lastChange = t + pause
            return Pause(duration: pause, rateAfter: state.rate, reason: reason)
        }
    }

    /// Grows a backed-off rate by `recoveryFactor` per `recoveryInterval` without throttling, up to the
    /// target; an unlimited host becomes unlimited again once it is back at the rate it had.
    private func recover(_ state: inout State, at t: Duration) {
        guard let rate = state.rate, let target = state.target, rate < target,
              t >= state.lastChange + configuration.recoveryInterval else { return }
        let grown = rate * configuration.recoveryFactor
        if grown >= target {
            state.rate = configuration.rate == nil ? nil : target
            if configuration.rate == nil { state.target = nil }
        } else {
            state.rate = grown
        }
        state.lastChange = t
    }

    static func observedRate(_ recent: [Duration], at t: Duration) -> Double? {
        guard recent.count >= 8, let first = recent.first else { return nil }
        let span = (t - first).seconds
        return span > 0 ? Double(recent.count) / span : nil
    }

    /// Monotonic time since an arbitrary origin.
    @Sendable public static func monotonicNow() -> Duration {
        ContinuousClock.now - origin
    }

    private static let origin = ContinuousClock.now
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    public var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
