import JobRunner
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

    @Test func anUnlimitedHostGetsALimitWhenThrottledAndLosesItAfterRecovering() {
        let limiter = RateLimiter(.init(rate: nil, burst: 1, recoveryInterval: .seconds(1), recoveryFactor: 2))
        // 20 requests over one second: about 20/s observed.
        for i in 0..<20 { _ = limiter.reserve(at: .milliseconds(50 * i)) }
        limiter.throttled(hint: .zero, at: .seconds(1))
        let limited = try! #require(limiter.currentRate)
        #expect(limited > 8 && limited < 12)
        _ = limiter.reserve(at: .seconds(3))
        #expect(limiter.currentRate == nil)
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

    @Test func backoffNeverGoesBelowTheMinimumRate() {
        let limiter = RateLimiter(.init(rate: 2, minimumRate: 0.5))
        for _ in 0..<10 { limiter.throttled(hint: .zero, at: .zero) }
        #expect(limiter.currentRate == 0.5)
    }
}
