import NIOCore
import Synchronization

/// Counts the requests one unit of work (a job's attempt) sends, the bytes of their bodies that actually went
/// out, and the response bytes read. Found through a task-local, so protocol clients do not know about attempts.
public final class RequestMeter: Sendable {
    @TaskLocal public static var current: RequestMeter?

    public struct Counts: Sendable, Equatable {
        public var requests = 0
        public var bytesSent: Int64 = 0
        public var bytesReceived: Int64 = 0
    }

    private let counts = Mutex(Counts())
    /// A meter that is charged with everything this one is (an attempt's, for one blob's meter).
    public let parent: RequestMeter?

    public init(parent: RequestMeter? = nil) {
        self.parent = parent
    }

    public var snapshot: Counts { counts.withLock { $0 } }
    public var requests: Int { snapshot.requests }
    public var bytesSent: Int64 { snapshot.bytesSent }
    public var bytesReceived: Int64 { snapshot.bytesReceived }

    func countRequest(bytes: Int64) {
        counts.withLock { $0.requests += 1; $0.bytesSent += bytes }
        parent?.countRequest(bytes: bytes)
    }

    func countSent(_ bytes: Int) {
        counts.withLock { $0.bytesSent += Int64(bytes) }
        parent?.countSent(bytes)
    }

    func countReceived(_ bytes: Int) {
        counts.withLock { $0.bytesReceived += Int64(bytes) }
        parent?.countReceived(bytes)
    }
}

/// Charges every request to the current ``RequestMeter``: an in-memory body when it is handed over, a streamed
/// body chunk by chunk as the network takes it, and response chunks as they are read.
public struct MeteredTransport: HTTPTransport {
    let base: any HTTPTransport

    public init(base: any HTTPTransport) {
        self.base = base
    }

    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        guard let meter = RequestMeter.current else { return try await base.send(request) }
        var request = request
        if let body = request.body, body.buffer == nil {
            meter.countRequest(bytes: 0)
            request.body = body.observing { meter.countSent($0.readableBytes) }
        } else {
            meter.countRequest(bytes: Int64(request.body?.buffer?.readableBytes ?? 0))
        }
        var response = try await base.send(request)
        let chunks = response.body.stream()
        response.body = ResponseBody(chunks.observing { meter.countReceived($0.readableBytes) })
        return response
    }
}
