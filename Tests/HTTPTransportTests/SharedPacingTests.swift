@testable import HTTPTransport
import Synchronization
import Testing
import Timekeeping

/// Processes sharing one budget place its slots on the budget's clock, whatever their own clock and however lopsided
/// a booking's round trip: the slots of all of them never come closer than the rate allows.
@Suite struct SharedPacingTests {
    /// A budget 1000 s ahead of the processes' clock (a virtual one, advanced by the round trips), keeping one due time.
    final class Budget: SharedRateBudget {
        let clock = Mutex<Double>(10)
        private let due = Mutex<Double>(0)
        /// The next bookings' delays there and back, seconds.
        let trips = Mutex<[(up: Double, down: Double)]>([])
        static let ahead = 1000.0

        var now: Duration { .seconds(clock.withLock { $0 }) }

        func reserve(host: String, rate: Double?, count: Int) async throws -> RateGrant {
            let trip = trips.withLock { $0.isEmpty ? (up: 0.001, down: 0.001) : $0.removeFirst() }
            let server = clock.withLock { $0 += trip.up; return $0 } + Self.ahead
            let start = due.withLock { due in
                let first = max(due, server)
                due = first + Double(count) / (rate ?? 1)
                return first - server
            }
            clock.withLock { $0 += trip.down }
            return RateGrant(start: .seconds(start), interval: .seconds(1 / (rate ?? 1)), rate: rate, bookedAt: server)
        }

        func throttled(host: String, pause: Duration, factor: Double, floor: Double) async throws -> Double? { rate }
        let rate: Double? = 30
    }

    @Test func slotsOfEveryProcessKeepTheRateOnTheBudgetsClock() async {
        let budget = Budget()
        let processes = [SharedPacing(budget: budget, host: "h", rate: 30), SharedPacing(budget: budget, host: "h", rate: 30)]
        var slots: [Double] = []
        // Each process books in turn; some round trips are lopsided (40 ms back, 1 ms there), as on a busy machine.
        for round in 0..<40 {
            let process = processes[round % 2]
            if round % 5 == 3 { budget.trips.withLock { $0.append((up: 0.001, down: 0.040)) } }
            for _ in 0..<process.batch {
                let slot = await process.slot(at: { budget.now })
                slots.append(slot.seconds + Budget.ahead)
            }
        }
        let sorted = slots.sorted()
        let gaps = zip(sorted, sorted.dropFirst()).map { $1 - $0 }
        // 1/30 s apart, give or take half of the narrowest round trip (1 ms here).
        #expect(gaps.min() ?? 0 > 1.0 / 30 - 0.0011, "closest slots \(gaps.min() ?? 0) s apart")
        #expect(sorted.count == 40 * processes[0].batch)
    }

    @Test func withoutAnOffsetTheMiddleOfTheRoundTripIsUsed() async {
        let budget = Budget()
        let pacing = SharedPacing(budget: budget, host: "h", rate: 30)
        let slot = await pacing.slot(at: { budget.now })
        // Booked at 10.001 (its clock), answered at 10.002: the first slot is at the booking, 10.001 ± 0.001.
        #expect(abs(slot.seconds - 10.001) <= 0.001)
    }
}
