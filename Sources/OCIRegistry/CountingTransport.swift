import Synchronization

/// Counts requests; wraps another transport (used for stats and by tests).
public final class CountingTransport: HTTPTransport {
    private let base: any HTTPTransport
    private let count = Mutex(0)

    public init(_ base: any HTTPTransport) {
        self.base = base
    }

    /// Requests handed to the wrapped transport so far (including failed ones).
    public var requestCount: Int { count.withLock { $0 } }

    public func send(_ request: HTTPRequestSpec) async throws -> HTTPResponseSpec {
        count.withLock { $0 += 1 }
        return try await base.send(request)
    }
}
