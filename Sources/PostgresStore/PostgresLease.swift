import AuditStore
import PostgresNIO
import Synchronization

extension PostgresAuditStore {
    /// How long a call waits for a pooled connection before it fails as `cannotOpen`. The pool itself keeps
    /// retrying a server that went away for about a minute per call; a run's writes should fail sooner.
    static let leaseTimeout: Duration = .seconds(15)

    /// Runs `body` on a pooled connection, failing if none is handed out within ``leaseTimeout``; once `body` has
    /// its connection it runs as long as it needs (a write may wait for the ledger lock).
    func leased<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let client = self.client, location = self.location
        let leased = LeaseFlag()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await client.withConnection { connection in
                    leased.set()
                    return try await body(connection)
                }
            }
            group.addTask {
                let deadline = ContinuousClock.now + Self.leaseTimeout
                while ContinuousClock.now < deadline {
                    if leased.isSet { return nil }
                    try await Task.sleep(for: .milliseconds(50))
                }
                if leased.isSet { return nil }
                throw AuditStoreError(.cannotOpen, path: location, message: "cannot reach the server (no connection within "
                                      + "\(Self.leaseTimeout.components.seconds) s); check that it runs and listens on that host and port")
            }
            while let result = try await group.next() {
                if let result {
                    group.cancelAll()
                    return result
                }
            }
            throw CancellationError()
        }
    }
}

/// Set once a connection was handed out.
final class LeaseFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
