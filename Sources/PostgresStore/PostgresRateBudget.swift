import AuditStore
import Foundation

/// One request budget per registry host for every runner of a database (`rate_budgets`, migration 0007): a generic
/// cell rate computed by the server, so the slots booked by all runners never come closer than the rate, and a pause
/// that any runner's throttle sets holds all of them. Offsets are computed against the server's clock and returned
/// relative to it, so the runners' clocks need not agree.
public struct PostgresRateBudget: Sendable {
    let store: PostgresAuditStore

    public init(store: PostgresAuditStore) {
        self.store = store
    }

    /// Slots booked: the first `start` seconds after `bookedAt` (the server's clock, seconds since 1970), then every
    /// `interval`; `rate` as backed off.
    public struct Booking: Sendable, Equatable {
        public var start: Double
        public var interval: Double
        public var rate: Double?
        public var bookedAt: Double?
    }

    /// Books `count` slots for `host` at `rate` (nil: no pacing, only the pause in force). A backed-off rate grows
    /// back by a quarter every two seconds without a throttle.
    public func reserve(host: String, rate: Double?, count: Int) async throws(AuditStoreError) -> Booking {
        guard let rate else {
            // Pacing nobody: only the pause in force, read without locking or writing the row.
            let row = try await store.rows("""
                SELECT extract(epoch FROM greatest(paused_until - now(), interval '0'))::float8,
                       extract(epoch FROM now())::float8
                FROM rate_budgets WHERE host = $1
                """, [.text(host)]).first
            return Booking(start: row?.double(0) ?? 0, interval: 0, rate: nil, bookedAt: row?.double(1))
        }
        for _ in 0..<2 {
            let rows = try await store.rows("""
                WITH cur AS (
                    SELECT host, current_rate, due, paused_until, last_change FROM rate_budgets WHERE host = $1 FOR UPDATE
                ), calc AS (
                    SELECT host,
                        CASE WHEN current_rate IS NULL OR current_rate > $2 THEN $2
                             WHEN now() >= last_change + interval '2 seconds' THEN least($2, current_rate * 1.25)
                             ELSE current_rate END AS new_rate,
                        (current_rate < $2 AND now() >= last_change + interval '2 seconds') AS recovered,
                        greatest(due, paused_until, now()) AS start
                    FROM cur
                )
                UPDATE rate_budgets b SET rate = $2, current_rate = calc.new_rate,
                    last_change = CASE WHEN calc.recovered THEN now() ELSE b.last_change END,
                    due = calc.start + make_interval(secs => $3 / calc.new_rate)
                FROM calc WHERE b.host = calc.host
                RETURNING extract(epoch FROM calc.start - now())::float8, calc.new_rate, extract(epoch FROM now())::float8
                """, [.text(host), .double(rate), .double(Double(count))])
            if let row = rows.first {
                let current = row.double(1)
                return Booking(start: max(0, row.double(0) ?? 0), interval: current.map { 1 / $0 } ?? 0, rate: current,
                               bookedAt: row.double(2))
            }
            _ = try await store.rows("INSERT INTO rate_budgets (host, rate, current_rate) VALUES ($1, $2, $2) "
                                     + "ON CONFLICT (host) DO NOTHING", [.text(host), .double(rate)])
        }
        return Booking(start: 0, interval: 1 / rate, rate: rate)
    }

    /// A throttle met by one runner: every runner pauses for `pause` seconds; the rate backs off by `factor` (once
    /// per second at most) down to `floor`. Returns the rate after it.
    @discardableResult
    public func throttled(host: String, pause: Double, factor: Double, floor: Double) async throws(AuditStoreError) -> Double? {
        try await store.rows("""
            INSERT INTO rate_budgets AS b (host, paused_until, last_change, pauses)
            VALUES ($1, now() + make_interval(secs => $2), now() + make_interval(secs => $2), 1)
            ON CONFLICT (host) DO UPDATE SET
                paused_until = greatest(b.paused_until, now() + make_interval(secs => $2)),
                due = greatest(b.due, now() + make_interval(secs => $2)),
                last_change = greatest(b.last_change, now() + make_interval(secs => $2)),
                current_rate = CASE WHEN b.current_rate IS NOT NULL
                                     AND (b.last_backoff IS NULL OR now() >= b.last_backoff + interval '1 second')
                                    THEN greatest($4, b.current_rate * $3) ELSE b.current_rate END,
                last_backoff = CASE WHEN b.current_rate IS NOT NULL
                                     AND (b.last_backoff IS NULL OR now() >= b.last_backoff + interval '1 second')
                                    THEN now() ELSE b.last_backoff END,
                pauses = b.pauses + 1
            RETURNING current_rate
            """, [.text(host), .double(pause), .double(factor), .double(floor)]).first?.double(0)
    }

    /// The budget's state for `host` (tests): the pauses reported so far and the rate after back-offs.
    public func state(host: String) async throws(AuditStoreError) -> (pauses: Int, rate: Double?)? {
        try await store.rows("SELECT pauses, current_rate FROM rate_budgets WHERE host = $1", [.text(host)])
            .first.map { (Int($0.int(0)), $0.double(1)) }
    }
}
