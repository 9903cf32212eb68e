import Logging

/// Logs every request at debug level: method, URL without query or credentials, status and time. A failed
/// request is logged with its error. Nothing else of the request (headers, bodies) is ever logged.
public struct LoggingTransport: HTTPTransport {
    let base: any HTTPTransport
    let logger: Logger

    public init(base: any HTTPTransport, logger: Logger) {
        self.base = base
        self.logger = logger
    }

    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        guard logger.logLevel <= .debug else { return try await base.send(request) }
        let started = ContinuousClock.now
        let shown = Self.shown(request.url)
        do {
            let response = try await base.send(request)
            logger.debug("\(request.method.rawValue) \(shown) \(response.status) \(Self.milliseconds(since: started)) ms")
            return response
        } catch {
            logger.debug("\(request.method.rawValue) \(shown) failed after \(Self.milliseconds(since: started)) ms: \(error)")
            throw error
        }
    }

    /// `scheme://host[:port]/path`: no user-info, no query (queries carry upload state and tokens' scopes).
    static func shown(_ url: String) -> String {
        guard let parts = URLParts(url) else { return "?" }
        return "\(parts.scheme)://\(parts.authority)\(parts.path)"
    }

    private static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        let elapsed = ContinuousClock.now - start
        return Int(elapsed.components.seconds) * 1000 + Int(elapsed.components.attoseconds / 1_000_000_000_000_000)
    }
}
