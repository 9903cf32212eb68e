import Synchronization
import Timekeeping

/// One host's request budget shared by every process that sends to it (several runners on several machines), kept
/// somewhere they all reach (the PostgreSQL store). A process books send slots in small batches; the slots of all
/// processes together never come closer than the budget's rate allows, and a pause any process reports holds them
/// all. Times are offsets from the call, so the processes' clocks need not agree.
public protocol SharedRateBudget: Sendable {
    /// Books `count` consecutive send slots for `host` at `rate` requests per second (nil: no rate, only pauses).
    func reserve(host: String, rate: Double?, count: Int) async throws -> RateGrant
    /// A throttling answer from `host`: every process pauses for `pause`; a rate backs off by `factor` (at most once
    /// per second) but not below `floor`. Returns the rate after it.
    func throttled(host: String, pause: Duration, factor: Double, floor: Double) async throws -> Double?
}

/// Slots booked in a shared budget.
public struct RateGrant: Sendable, Equatable {
    /// When the first slot is, from the moment the budget booked it (zero: at once).
    public var start: Duration
    /// The spacing of the slots (zero: no rate).
    public var interval: Duration
    /// The rate the slots were spaced at (backed off after throttles), nil for none.
    public var rate: Double?
    /// That moment on the budget's own clock (seconds since 1970), for the processes to agree on when a slot is.
    public var bookedAt: Double?

    public init(start: Duration, interval: Duration, rate: Double?, bookedAt: Double? = nil) {
        self.start = start
        self.interval = interval
        self.rate = rate
        self.bookedAt = bookedAt
    }
}

/// A ``RateLimiter``'s link to a ``SharedRateBudget``: the slots this process booked and has not used yet, booked
/// again (one booking at a time) when they run out. Without a rate it only learns of pauses, looking at most every
/// `window`. A budget that cannot be reached leaves the process to its own limiter for a second, then is asked again.
final class SharedPacing: Sendable {
    let budget: any SharedRateBudget
    let host: String
    let rate: Double?
    /// Slots booked at a time: about `window` worth, so a pause reported elsewhere reaches this process within it.
    let batch: Int
    let window: Duration
    /// How late a send may be after its slot: half an interval, so sends keep apart even when some leave late
    /// (without a rate, any).
    let lateness: Duration
    private let state = Mutex(State())

    private struct State {
        var slots: [Duration] = []
        /// What the budget's clock minus this process's monotonic clock is known to lie between (seconds): each
        /// booking narrows it to its round trip, as NTP does, so every process places the same slot at the same time.
        var offset: (low: Double, high: Double)?
        /// Without a rate (or while the budget is unreachable): sends wait only for `pausedUntil` until then.
        var clearUntil: Duration?
        var pausedUntil: Duration = .zero
        var booking: Task<Void, Never>?
    }

    init(budget: any SharedRateBudget, host: String, rate: Double?, window: Duration = .milliseconds(200)) {
        self.budget = budget
        self.host = host
        self.rate = rate
        let perWindow = (rate ?? 0) * window.seconds
        batch = rate == nil ? 1 : max(1, min(32, Int(perWindow.rounded(.down))))
        self.window = window
        lateness = rate.map { .seconds(0.5 / $0) } ?? .seconds(3600)
    }

    /// The next send slot (a monotonic time) at `now()`, booking slots when none is left. A slot whose moment
    /// passed more than `lateness` ago is dropped: a process that was held up does not send its overdue slots at once.
    func slot(at now: @escaping @Sendable () -> Duration) async -> Duration {
        while true {
            let t = now()
            let decided = state.withLock { state -> (Duration?, Task<Void, Never>?) in
                while let first = state.slots.first, first + lateness < t { state.slots.removeFirst() }
                if !state.slots.isEmpty { return (state.slots.removeFirst(), nil) }
                if let clear = state.clearUntil, t < clear { return (max(t, state.pausedUntil), nil) }
                if let booking = state.booking { return (nil, booking) }
                let booking = Task { await self.book(at: now) }
                state.booking = booking
                return (nil, booking)
            }
            if let wait = decided.0 { return wait }
            await decided.1?.value
        }
    }

    /// Drops what was booked before a pause: the next send books anew, after it.
    func forget() {
        state.withLock { state in
            state.slots = []
            state.clearUntil = nil
        }
    }

    private func book(at now: @Sendable () -> Duration) async {
        let sent = now()
        let grant = try? await budget.reserve(host: host, rate: rate, count: batch)
        let received = now()
        state.withLock { state in
            state.booking = nil
            guard let grant else {
                state.slots = []
                state.pausedUntil = received
                state.clearUntil = received + .seconds(1)
                return
            }
            // The moment the grant counts from, on this process's clock: through the narrowest known offset, else the
            // middle of this round trip (off by at most half of it).
            var t = sent + (received - sent) / 2
            if let bookedAt = grant.bookedAt {
                let low = bookedAt - received.seconds, high = bookedAt - sent.seconds
                let known = state.offset.map { (max($0.low, low), min($0.high, high)) } ?? (low, high)
                state.offset = known.0 <= known.1 ? known : (low, high)
                if let offset = state.offset { t = .seconds(bookedAt - (offset.low + offset.high) / 2) }
            }
            if rate == nil {
                state.pausedUntil = t + grant.start
                state.clearUntil = t + grant.start + window
            } else {
                state.slots = (0..<batch).map { t + grant.start + grant.interval * $0 }
            }
        }
    }
}
