import Foundation
import Synchronization
import HTTPTransport
import HTTPTypes
import NIOCore
import Testing
import Timekeeping
@testable import HTTPTransport

#if canImport(Glibc)
import Glibc
#endif

/// Answers every request with `status` and `body`, after reading the request body through.
private struct EchoTransport: HTTPTransport {
    var status = 200
    var headers: HTTPFields = [:]
    var body: [UInt8] = Array("ok".utf8)

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        if let body = request.body { for try await _ in body.chunks() {} }
        return TransportResponse(status: status, headerFields: headers, body: .bytes(body))
    }
}

@Suite struct TransportTests {
    @Test func errnoMapping() {
        #expect(TransportErrorMapping.map(errno: ECONNREFUSED, target: "h").kind == .connect)
        #expect(TransportErrorMapping.map(errno: ECONNRESET, target: "h").kind == .reset)
        #expect(TransportErrorMapping.map(errno: EPIPE, target: "h").kind == .reset)
        #expect(TransportErrorMapping.map(errno: ETIMEDOUT, target: "h").kind == .timeout)
        #expect(TransportErrorMapping.map(errno: ENOMEM, target: "h").kind == .other)
    }

    @Test func refusedConnectionIsAConnectError() async throws {
        // Port 1 on loopback: nothing listens there in test environments.
        let transport = AsyncHTTPClientTransport(timeout: .seconds(5), maxConnectionsPerHost: 2)
        do {
            _ = try await transport.send(TransportRequest(method: .get, url: "http://127.0.0.1:1/v2/"))
            Issue.record("expected a failure")
        } catch let error as TransportError {
            #expect(error.kind == .connect, "\(error)")
            #expect(error.message.contains("127.0.0.1:1"))
        }
        try await transport.shutdown()
    }

    @Test func theMeterCountsRequestsAndTheBytesActuallyRead() async throws {
        let metered = MeteredTransport(base: EchoTransport())
        let meter = RequestMeter()
        try await RequestMeter.$current.withValue(meter) {
            _ = try await metered.send(TransportRequest(method: .put, url: "http://h/a", body: .bytes([1, 2, 3])))
            let chunks: [[UInt8]] = [[1, 2], [3, 4, 5], [6]]
            let streamed = HTTPBody.stream(length: .known(6)) {
                ByteChunks {
                    var index = 0
                    return { () -> ByteBuffer? in
                        defer { index += 1 }
                        return index < chunks.count ? ByteBuffer(bytes: chunks[index]) : nil
                    }
                }
            }
            let response = try await metered.send(TransportRequest(method: .put, url: "http://h/b", body: streamed))
            #expect(try await response.body.collect(upTo: 100) == Array("ok".utf8))
        }
        #expect(meter.snapshot == RequestMeter.Counts(requests: 2, bytesSent: 9, bytesReceived: 2))
    }

    @Test func aStreamedBodyStartsOverForEverySend() async throws {
        let body = HTTPBody.bytes(Array("abc".utf8)).observing { _ in }
        for _ in 0..<2 {
            var collected: [UInt8] = []
            for try await var chunk in body.chunks() { collected += chunk.readBytes(length: chunk.readableBytes) ?? [] }
            #expect(collected == Array("abc".utf8))
        }
        #expect(body.knownLength == 3)
    }

    @Test func collectingRefusesAnswersOverTheLimit() async {
        let body = ResponseBody.bytes([UInt8](repeating: 7, count: 2048))
        await #expect(throws: TransportError.self) { _ = try await body.collect(upTo: 1024) }
    }

    @Test func aThrottlingAnswerPausesTheHostForItsHint() async throws {
        let time = ManualTime(autoAdvance: true)
        let limiter = RateLimiter(.init(rate: nil), time: time)
        let pauses = PauseLog()
        let ghcr = EchoTransport(status: 429, body: Array(#"{"errors":[{"code":"TOOMANYREQUESTS","message":"retry-after: 1.5s, allowed: 2000/minute"}]}"#.utf8))
        let throttled = ThrottledTransport(base: ghcr, limiter: limiter, now: { time.wallClock }, onPause: pauses.add)
        let response = try await throttled.send(TransportRequest(method: .get, url: "https://ghcr.io/v2/"))
        #expect(response.status == 429)
        #expect(try await response.body.collect(upTo: 1 << 20).count > 0, "the body is handed on")
        #expect(pauses.all.map(\.duration) == [.milliseconds(1500)])
        #expect(limiter.reserve(at: time.monotonic) == .milliseconds(1500))
        try await time.sleep(for: .milliseconds(1500))

        let secondary = EchoTransport(status: 403, headers: [.retryAfter: "2"], body: Array("secondary rate limit".utf8))
        _ = try await ThrottledTransport(base: secondary, limiter: limiter, now: { time.wallClock }, onPause: pauses.add)
            .send(TransportRequest(method: .get, url: "https://ghcr.io/v2/"))
        #expect(pauses.all.last?.reason == "403 secondary rate limit")
        #expect(pauses.all.last?.duration == .seconds(2))

        let denied = EchoTransport(status: 403, body: Array("denied".utf8))
        _ = try await ThrottledTransport(base: denied, limiter: limiter, now: { time.wallClock }, onPause: pauses.add)
            .send(TransportRequest(method: .get, url: "https://ghcr.io/v2/"))
        #expect(pauses.all.count == 2, "a plain 403 is not a throttle")
    }

    @Test func hostPolicyDecidesRatePlainHTTPAndCredentials() throws {
        #expect(HostPolicy.rate(forHost: "ghcr.io", requested: nil) == 30)
        #expect(HostPolicy.rate(forHost: "ghcr.io", requested: 0) == nil)
        #expect(HostPolicy.rate(forHost: "registry.example", requested: nil) == nil)
        #expect(HostPolicy.usesPlainHTTP(host: "127.0.0.1", authority: "127.0.0.1:5000", plainHTTPHosts: [], trust: .system))
        #expect(!HostPolicy.usesPlainHTTP(host: "127.0.0.1", authority: "127.0.0.1:5000", plainHTTPHosts: [],
                                          trust: .insecureSkipVerify))
        #expect(HostPolicy.usesPlainHTTP(host: "reg.lan", authority: "reg.lan:5000", plainHTTPHosts: ["reg.lan:5000"],
                                         trust: .system))
        #expect(HostPolicy.mayCarryCredentials(to: try #require(URLParts("http://127.0.0.1:5000/v2/"))))
        #expect(!HostPolicy.mayCarryCredentials(to: try #require(URLParts("http://reg.lan/v2/"))))
        #expect(HostPolicy.mayCarryCredentials(to: try #require(URLParts("https://reg.lan/v2/"))))
    }

    @Test func logLinesCarryNoQueryOrUserInfo() {
        #expect(LoggingTransport.shown("https://bob:pw@reg.test/v2/a/blobs/uploads/x?_state=secret&digest=sha256:1")
                == "https://reg.test/v2/a/blobs/uploads/x")
    }
}

/// Collects the limiter's pauses from the transport's callback.
private final class PauseLog: Sendable {
    private let pauses = Mutex<[RateLimiter.Pause]>([])
    func add(_ pause: RateLimiter.Pause) { pauses.withLock { $0.append(pause) } }
    var all: [RateLimiter.Pause] { pauses.withLock { $0 } }
}
