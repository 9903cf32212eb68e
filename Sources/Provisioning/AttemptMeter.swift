import OCIRegistry
import Synchronization

/// Counts the requests and bytes one attempt sends; found through a task-local so the registry
/// client does not need to know about attempts.
final class AttemptMeter: Sendable {
    @TaskLocal static var current: AttemptMeter?

    private let counts = Mutex((requests: 0, bytes: 0))

    func add(bytes: Int) {
        counts.withLock { $0.requests += 1; $0.bytes += bytes }
    }

    var requests: Int { counts.withLock { $0.requests } }
    var bytesSent: Int { counts.withLock { $0.bytes } }
}

/// Charges every request to the current attempt's meter, then sends it.
struct MeteredTransport: HTTPTransport {
    let base: any HTTPTransport

    func send(_ request: HTTPRequestSpec) async throws -> HTTPResponseSpec {
        AttemptMeter.current?.add(bytes: request.body?.count ?? 0)
        return try await base.send(request)
    }
}
