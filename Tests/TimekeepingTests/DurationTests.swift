import Foundation
import Testing
import Timekeeping

@Suite struct DurationTests {
    @Test(arguments: [
        ("90s", Duration.seconds(90)), ("30m", .seconds(1800)), ("2h", .seconds(7200)), ("2d", .seconds(172_800)),
        ("1h30m", .seconds(5400)), ("10.48ms", .microseconds(10_480)), ("1m30s", .seconds(90)), ("45", .seconds(45)),
        (" 7D ", .seconds(604_800)), ("250us", .microseconds(250)),
    ])
    func parsesTheOneGrammar(text: String, expected: Duration) {
        #expect(DurationText.parse(text) == expected)
    }

    @Test(arguments: ["", "soon", "1h30", "5 minutes", "m", "-3s", "1x"])
    func refusesWhatIsNotADuration(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test func positiveRefusesZero() {
        #expect(DurationText.positive("0s") == nil)
        #expect(DurationText.positive("1s") == .seconds(1))
    }

    @Test func formatsForPeople() {
        #expect(DurationText.short(milliseconds: 850) == "850 ms")
        #expect(DurationText.short(milliseconds: 12_345) == "12.3 s")
        #expect(DurationText.seconds(milliseconds: 1250) == "1.3")
        #expect(DurationText.clock(seconds: 75.2) == "1:16")
        #expect(DurationText.clock(seconds: 3725) == "1:02:05")
        #expect(DurationText.oneDecimal(-0.04) == "0.0")
    }
}

@Suite struct ManualTimeTests {
    @Test func sleepersWakeWhenTheClockPassesTheirTime() async throws {
        let time = ManualTime()
        let woke = Task { try await time.sleep(for: .seconds(5)); return time.monotonic }
        while time.pendingSleepers == 0 { await Task.yield() }
        time.advance(by: .seconds(4))
        #expect(time.pendingSleepers == 1)
        time.advance(by: .seconds(1))
        #expect(try await woke.value == .seconds(5))
    }

    @Test func autoAdvanceAddsUpTheSleeps() async throws {
        let time = ManualTime(autoAdvance: true)
        let start = time.wallClock
        try await time.sleep(for: .seconds(2))
        try await time.sleep(for: .milliseconds(500))
        #expect(time.monotonic == .milliseconds(2500))
        #expect(time.sleeps == [.seconds(2), .milliseconds(500)])
        #expect(time.wallClock.timeIntervalSince(start) == 2.5)
    }

    @Test func aCancelledSleeperThrows() async {
        let time = ManualTime()
        let sleeper = Task { try await time.sleep(for: .seconds(60)) }
        while time.pendingSleepers == 0 { await Task.yield() }
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
    }
}
