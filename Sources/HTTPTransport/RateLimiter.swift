import Synchronization
import Timekeeping

/// Paces requests to one host: a token bucket shared by every worker. When the server throttles, the
/// whole host pauses for the hinted time; a configured rate also backs off and recovers gradually.
/// A host without a configured rate is not given an invented one: its throttles pause it, nothing more.
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
        /// Multiplier applied to the rate on a throttle; throttles within `backoffWindow` of the last
        /// back-off (concurrent workers hitting the same burst) count once.
        public var backoffFactor: Double
        public var backoffWindow: Duration
        /// The rate never goes below this share of the rate before the first throttle, nor below
        /// `minimumRate`: a server that throttles at random must not stall the run.
        public var floorFraction: Double
        public var minimumRate: Double

        public init(rate: Double? = nil, burst: Int = 8, defaultPause: Duration = .seconds(1),
                    recoveryInterval: Duration = .seconds(2), recoveryFactor: Double = 1.25,
                    backoffFactor: Double = 0.5, backoffWindow: Duration = .seconds(1),
                    floorFraction: Double = 0.25, minimumRate: Double = 0.5) {
            self.rate = rate
            self.burst = max(1, burst)
            self.defaultPause = defaultPause
            self.recoveryInterval = recoveryInterval
            self.recoveryFactor = recoveryFactor
            self.backoffFactor = backoffFactor
            self.backoffWindow = backoffWindow
            self.floorFraction = floorFraction
            self.minimumRate = minimumRate
        }
    }

    private struct State {
        var rate: Double?
        /// The configured rate, which a backed-off rate recovers to.
        var target: Double?
        /// Theoretical time the next request is due (GCRA), as an offset on the injected clock.
        var due: Duration = .zero
        var pausedUntil: Duration = .zero
        var lastChange: Duration = .zero
        var lastBackoff: Duration?
        /// The lowest rate back-offs may reach.
        var floor: Double
    }

    public let configuration: Configuration
    private let state: Mutex<State>
    private let now: @Sendable () -> Duration
    private let sleep: @Sendable (Duration) async throws -> Void
    /// The budget this host's limiters in other processes share, when there is one.
    private let shared: SharedPacing?

    /// A limiter on `time`'s clock (the system clock by default; a virtual one in tests). With `shared`, every
    /// request also takes a slot of `host`'s budget there (so several processes together keep the rate), and a
    /// throttle this process meets pauses them all.
    public convenience init(_ configuration: Configuration, time: any TimeSource = SystemTime(),
                            shared: (any SharedRateBudget)? = nil, host: String = "") {
        self.init(configuration, now: { time.monotonic }, sleep: { try await time.sleep(for: $0) },
                  shared: shared.map { SharedPacing(budget: $0, host: host, rate: configuration.rate) })
    }

    init(_ configuration: Configuration,
         now: @escaping @Sendable () -> Duration,
         sleep: @escaping @Sendable (Duration) async throws -> Void,
         shared: SharedPacing?) {
        self.configuration = configuration
        self.state = Mutex(State(rate: configuration.rate, target: configuration.rate,
                                 floor: Self.floor(below: configuration.rate, configuration)))
        self.now = now
        self.sleep = sleep
        self.shared = shared
    }

    public convenience init(_ configuration: Configuration,
                            now: @escaping @Sendable () -> Duration,
                            sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.init(configuration, now: now, sleep: sleep, shared: nil)
    }

    /// The current rate in requests per second (nil: unlimited).
    public var currentRate: Double? { state.withLock { $0.rate } }

    /// Waits until the next request may be sent (by this limiter, then by the shared budget); returns how long.
    @discardableResult
    public func acquire() async throws -> Duration {
        var wait = reserve(at: now())
        if wait > .zero { try await sleep(wait) }
        guard let shared else { return wait }
        // A slot of the shared budget, kept only if this process wakes on time for it: a late one is not used.
        while true {
            let slot = await shared.slot(at: now)
            let before = now()
            if slot > before {
                try await sleep(slot - before)
                wait += slot - before
            }
            if now() <= slot + shared.lateness { return wait }
        }
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
            return start - t
        }
    }

    /// The server throttled (429, or a secondary rate limit): pause every worker for `hint` (or the
    /// default pause) and, when a rate is configured, back it off. Returns the pause to record.
    @discardableResult
    public func throttled(hint: Duration?, at t: Duration? = nil, reason: String = "rate limited") -> Pause {
        let t = t ?? now()
        let pause = state.withLock { state in
            let pause = hint ?? configuration.defaultPause
            state.pausedUntil = max(state.pausedUntil, t + pause)
            if let rate = state.rate, state.lastBackoff.map({ t >= $0 + configuration.backoffWindow }) ?? true {
                state.rate = max(state.floor, rate * configuration.backoffFactor)
                state.lastBackoff = t
            }
            state.due = max(state.due, state.pausedUntil)
            state.lastChange = t + pause
            return Pause(duration: pause, rateAfter: state.rate, reason: reason)
        }
        if let shared {
            shared.forget()
            let configuration = self.configuration
            let floor = state.withLock { $0.floor }
            Task { _ = try? await shared.budget.throttled(host: shared.host, pause: pause.duration,
                                                          factor: configuration.backoffFactor, floor: floor) }
        }
        return pause
    }

    /// Grows a backed-off rate by `recoveryFactor` per `recoveryInterval` without throttling, up to the
    /// configured rate.
    private func recover(_ state: inout State, at t: Duration) {
        guard let rate = state.rate, let target = state.target, rate < target,
              t >= state.lastChange + configuration.recoveryInterval else { return }
        state.rate = min(target, rate * configuration.recoveryFactor)
        state.lastChange = t
    }

    static func floor(below rate: Double?, _ configuration: Configuration) -> Double {
        max(configuration.minimumRate, (rate ?? 0) * configuration.floorFraction)
    }

}
