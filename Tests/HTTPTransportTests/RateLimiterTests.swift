@testable import HTTPTransport
import Timekeeping
import Synchronization
import Testing

/// The limiter's pacing, on a virtual clock: reservations are pure functions of the booked times.
@Suite struct RateLimiterTests {
    @Test func unlimitedNeverWaits() {
        let limiter = RateLimiter(.init(rate: nil))
        for i in 0..<100 { #expect(limiter.reserve(at: .milliseconds(i)) == .zero) }
    }

    @Test func pacesToTheRateAfterTheBurst() {
        let limiter = RateLimiter(.init(rate: 10, burst: 3))
        // Three go at once, then one every 100 ms.
        let waits = (0..<6).map { _ in limiter.reserve(at: .zero) }
        #expect(waits == [.zero, .zero, .zero, .milliseconds(100), .milliseconds(200), .milliseconds(300)])
    }

    @Test func sustainedRateMatchesTheConfiguration() {
        let limiter = RateLimiter(.init(rate: 30, burst: 1))
        var t = Duration.zero
        var last = Duration.zero
        for _ in 0..<300 {
            let wait = limiter.reserve(at: t)
            last = t + wait
            t = last
        }
        // 300 requests at 30/s take 299 intervals ≈ 9.97 s.
        #expect(abs(last.seconds - 299.0 / 30) < 0.01)
    }

    @Test func aThrottlePausesEveryWorkerForTheHint() {
        let limiter = RateLimiter(.init(rate: 100, burst: 10))
        let pause = limiter.throttled(hint: .seconds(2), at: .seconds(1))
        #expect(pause.duration == .seconds(2))
        #expect(pause.rateAfter == 50)
        // Anyone asking during the pause waits until it ends.
        #expect(limiter.reserve(at: .milliseconds(1500)) == .milliseconds(1500))
        #expect(limiter.currentRate == 50)
    }

    @Test func withoutAHintTheDefaultPauseApplies() {
        let limiter = RateLimiter(.init(rate: 10, defaultPause: .milliseconds(750)))
        #expect(limiter.throttled(hint: nil, at: .zero).duration == .milliseconds(750))
        #expect(limiter.reserve(at: .zero) == .milliseconds(750))
    }

    @Test func rateRecoversGraduallyToTheConfiguredRate() {
        let limiter = RateLimiter(.init(rate: 40, burst: 1, recoveryInterval: .seconds(2), recoveryFactor: 1.5))
        limiter.throttled(hint: .zero, at: .zero)
        #expect(limiter.currentRate == 20)
        _ = limiter.reserve(at: .seconds(1))
        #expect(limiter.currentRate == 20)
        _ = limiter.reserve(at: .seconds(2))
        #expect(limiter.currentRate == 30)
        _ = limiter.reserve(at: .seconds(4))
        #expect(limiter.currentRate == 40)
        _ = limiter.reserve(at: .seconds(10))
        #expect(limiter.currentRate == 40)
    }

    @Test func aHostWithoutAConfiguredRateIsPausedButNotLimited() {
        let limiter = RateLimiter(.init(rate: nil))
        for i in 0..<100 { _ = limiter.reserve(at: .milliseconds(i)) }
        let pause = limiter.throttled(hint: .milliseconds(300), at: .milliseconds(10))
        #expect(pause.rateAfter == nil)
        #expect(limiter.currentRate == nil)
        #expect(limiter.reserve(at: .milliseconds(20)) == .milliseconds(290))
        #expect(limiter.reserve(at: .seconds(1)) == .zero)
        #expect(limiter.reserve(at: .seconds(1)) == .zero)
    }

    @Test func acquireSleepsForTheReservedWait() async throws {
        let clock = Mutex(Duration.zero)
        let slept = Mutex<[Duration]>([])
        let limiter = RateLimiter(.init(rate: 5, burst: 1), now: { clock.withLock { $0 } },
                                  sleep: { wait in slept.withLock { $0.append(wait) } })
        try await limiter.acquire()
        try await limiter.acquire()
        try await limiter.acquire()
        #expect(slept.withLock { $0 } == [.milliseconds(200), .milliseconds(400)])
    }

    @Test func backoffStopsAtTheFloor() {
        let limiter = RateLimiter(.init(rate: 40, recoveryInterval: .seconds(100), floorFraction: 0.25))
        for second in 0..<10 { limiter.throttled(hint: .zero, at: .seconds(second)) }
        #expect(limiter.currentRate == 10)
        let slow = RateLimiter(.init(rate: 1, floorFraction: 0.25, minimumRate: 0.5))
        for second in 0..<10 { slow.throttled(hint: .zero, at: .seconds(second)) }
        #expect(slow.currentRate == 0.5)
    }

    @Test func throttlesFromOneBurstBackOffOnce() {
        let limiter = RateLimiter(.init(rate: 80, backoffWindow: .seconds(1)))
        // Eight workers all get a 429 from the same burst.
        for i in 0..<8 { limiter.throttled(hint: .milliseconds(100), at: .milliseconds(i)) }
        #expect(limiter.currentRate == 40)
        limiter.throttled(hint: .milliseconds(100), at: .milliseconds(1500))
        #expect(limiter.currentRate == 20)
    }
}
