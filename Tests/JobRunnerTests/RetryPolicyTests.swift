import JobRunner
import Testing

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(100), maxDelay: .seconds(2), maxHint: .seconds(30))

    @Test func ceilingDoublesUntilTheCap() {
        #expect(policy.backoffCeiling(afterAttempt: 1) == .milliseconds(100))
        #expect(policy.backoffCeiling(afterAttempt: 2) == .milliseconds(200))
        #expect(policy.backoffCeiling(afterAttempt: 4) == .milliseconds(800))
        #expect(policy.backoffCeiling(afterAttempt: 6) == .seconds(2))
        #expect(policy.backoffCeiling(afterAttempt: 60) == .seconds(2))
    }

    @Test func fullJitterStaysWithinZeroAndTheCeiling() {
        for attempt in 1...8 {
            for unit in [0.0, 0.25, 0.5, 0.999_999] {
                let (wait, reason) = policy.delay(afterAttempt: attempt, hint: nil, unit: unit)
                #expect(wait >= .zero)
                #expect(wait <= policy.backoffCeiling(afterAttempt: attempt))
                #expect(reason == .backoff)
            }
        }
        #expect(policy.delay(afterAttempt: 3, hint: nil, unit: 0).0 == .zero)
        #expect(policy.delay(afterAttempt: 3, hint: nil, unit: 0.5).0 == .milliseconds(200))
    }

    @Test func aLongerServerHintWinsAndIsCapped() {
        #expect(policy.delay(afterAttempt: 1, hint: .seconds(3), unit: 0.5) == (.seconds(3), .serverHint))
        #expect(policy.delay(afterAttempt: 1, hint: .seconds(3600), unit: 0.5) == (.seconds(30), .serverHint))
        // A hint shorter than the drawn back-off does not shorten the wait.
        #expect(policy.delay(afterAttempt: 4, hint: .milliseconds(10), unit: 1) == (.milliseconds(800), .backoff))
    }

    @Test func classesHaveTheDocumentedRetryPolicy() {
        let retryable = FailureClass.all.filter(\.isRetryable).map(\.rawValue)
        #expect(retryable == ["rate_limited", "server", "network", "upload_session_lost"])
        #expect(FailureClass(rawValue: "denied") == .denied)
        #expect(!FailureClass(rawValue: "something_new").isRetryable)
    }
}
