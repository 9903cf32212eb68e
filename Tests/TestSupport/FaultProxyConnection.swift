import Foundation
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix

/// The connection side of `FaultProxy`: reading requests, buffering or streaming their bodies, forwarding,
/// writing answers, resets.
extension FaultProxy {
    /// Bodies up to this size are buffered and decided on at their end; larger ones are streamed.
    static let streamingThreshold = 1 << 20

    /// An upstream answer: collected, or streamed through (large bodies).
    enum Answer: Sendable {
        case buffered(HTTPResponseHead, ByteBuffer)
        case streamed(HTTPResponseHead, HTTPClientResponse.Body)
    }

    /// The request body's stream to the registry and the task forwarding it.
    private struct Streaming {
        let body: BodyStream
        let forwarding: Task<Answer, Error>
        let resetAfter: Bool
    }

    /// A rule's reset cut the registry's request short.
    private struct CutShort: Error {}

    /// The state of the request being read on a connection.
    private struct Exchange {
        var head: HTTPRequestHead
        var plan: Plan
        var body = ByteBuffer()
        var bytes = 0
        var streaming: Streaming?
        /// Decided early (large body): the answer to send at the end; the body is dropped.
        var early: Decision?
    }

    func handle(_ connection: LoopbackServer.Connection) async {
        let stamps = await ArrivalStamps.of(connection.channel)
        try? await connection.executeThenClose { inbound, outbound in
            var exchange: Exchange?
            for try await part in inbound {
                switch part {
                case .head(let head):
                    let arrived = stamps?.next() ?? .now
                    let plan = state.withLock { state in
                        state.received.append(RecordedRequest(head, at: arrived))
                        return Self.plan(head, &state)
                    }
                    exchange = Exchange(head: head, plan: plan)
                    if case .reset(_, true, _) = plan {
                        exchange?.streaming = await startStreaming(head, prefix: nil, resetAfter: false)
                    }
                case .body(let chunk):
                    guard var current = exchange else { continue }
                    if try await !take(chunk, into: &current, channel: connection.channel) { return }
                    exchange = current
                case .end:
                    guard let current = exchange else { continue }
                    exchange = nil
                    if try await !finish(current, outbound, channel: connection.channel) { return }
                }
            }
        }
    }

    /// Handles one body chunk; false when the connection was reset.
    private func take(_ chunk: ByteBuffer, into exchange: inout Exchange, channel: Channel) async throws -> Bool {
        exchange.bytes += chunk.readableBytes
        if case .reset(let limit, let partial, let rule) = exchange.plan {
            let reached = exchange.bytes >= limit
            if partial, let streaming = exchange.streaming {
                let wanted = chunk.readableBytes - max(0, exchange.bytes - limit)
                if wanted > 0 { await streaming.body.send(chunk.getSlice(at: chunk.readerIndex, length: wanted)!) }
                if reached {
                    streaming.body.finish(throwing: CutShort())
                    _ = try? await streaming.forwarding.value
                }
            }
            if reached {
                record(.resetMidBody, exchange.head, rule: rule)
                await abort(channel)
                return false
            }
            if partial { return true }
        }
        if let streaming = exchange.streaming {
            await streaming.body.send(chunk)
            return true
        }
        if exchange.early != nil { return true }  // an answer is decided: the body is dropped
        switch exchange.plan {
        case .answer: return true
        case .capped(let cap) where exchange.bytes > cap.bytes:
            exchange.plan = Self.capExceeded(exchange.head, cap)
            exchange.body.clear()
            return true
        default: break
        }
        var piece = chunk
        exchange.body.writeBuffer(&piece)
        var threshold = Self.streamingThreshold
        if case .capped(let cap) = exchange.plan { threshold = max(threshold, cap.bytes + 1) }
        guard exchange.body.readableBytes > threshold else { return true }
        // A large body: decide now, then stream the rest (or drop it when an answer is decided).
        let decision = try await decide(exchange.head, exchange.plan)
        switch decision {
        case .reset:
            await abort(channel)
            return false
        case .answer:
            exchange.early = decision
            exchange.body.clear()
        case .forward(let resetAfter, _):
            exchange.streaming = await startStreaming(exchange.head, prefix: exchange.body, resetAfter: resetAfter)
            exchange.early = decision
            exchange.body.clear()
        }
        return true
    }

    /// Answers a request whose body has been read; false when the connection was reset.
    private func finish(_ exchange: Exchange, _ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
                        channel: Channel) async throws -> Bool {
        var extra: [(String, String)] = []
        let answer: Answer
        if case .cutAnswer(let limit, let rule) = exchange.plan {
            guard case .buffered(let head, let body) = try await forward(exchange.head, body: exchange.body, collect: true)
            else { return false }
            try await outbound.write(.head(head))
            if let prefix = body.getSlice(at: body.readerIndex, length: min(limit, body.readableBytes)), prefix.readableBytes > 0 {
                try await outbound.write(.body(.byteBuffer(prefix)))
            }
            record(.resetMidAnswer, exchange.head, rule: rule)
            try? await Task.sleep(for: .milliseconds(50))  // let the bytes leave before the reset
            await abort(channel)
            return false
        } else if let streaming = exchange.streaming {
            streaming.body.finish()
            answer = try await streaming.forwarding.value
            if streaming.resetAfter {
                await abort(channel)
                return false
            }
            if case .forward(_, let headers) = exchange.early { extra = headers }
        } else {
            let decision: Decision
            if let early = exchange.early { decision = early } else { decision = try await decide(exchange.head, exchange.plan) }
            switch decision {
            case .reset:
                await abort(channel)
                return false
            case .answer(let head, let body):
                answer = .buffered(head, ByteBuffer(bytes: body))
            case .forward(let resetAfter, let headers):
                let forwarded = try await forward(exchange.head, body: exchange.body, collect: resetAfter)
                if resetAfter {
                    await abort(channel)
                    return false
                }
                answer = forwarded
                extra = headers
            }
        }
        try await write(answer, extra: extra, to: outbound)
        return true
    }

    private func startStreaming(_ request: HTTPRequestHead, prefix: ByteBuffer?, resetAfter: Bool) async -> Streaming {
        let body = BodyStream()
        let length = request.headers["Content-Length"].first.flatMap { Int64($0) }
        let forwarding = Task { [self] in
            defer { body.abandon() }
            var outgoing = outgoingRequest(request)
            outgoing.body = .stream(body, length: length.map { .known($0) } ?? .unknown)
            return try await execute(outgoing, request, collect: resetAfter)
        }
        // At most a few MiB: this waits, if at all, until the HTTP client has started reading.
        if let prefix, prefix.readableBytes > 0 { await body.send(prefix) }
        return Streaming(body: body, forwarding: forwarding, resetAfter: resetAfter)
    }

    private func outgoingRequest(_ request: HTTPRequestHead) -> HTTPClientRequest {
        var outgoing = HTTPClientRequest(url: "http://\(upstream)\(request.uri)")
        outgoing.method = request.method
        for (name, value) in request.headers where !Self.hopByHop.contains(name.lowercased()) {
            outgoing.headers.add(name: name, value: value)
        }
        return outgoing
    }

    private func forward(_ request: HTTPRequestHead, body: ByteBuffer, collect: Bool) async throws -> Answer {
        var outgoing = outgoingRequest(request)
        if body.readableBytes > 0 || request.method == .PUT || request.method == .POST || request.method == .PATCH {
            outgoing.body = .bytes(body)
        }
        return try await execute(outgoing, request, collect: collect)
    }

    /// Sends the request upstream; the answer's body is collected unless it is over the threshold.
    private func execute(_ outgoing: HTTPClientRequest, _ request: HTTPRequestHead, collect: Bool) async throws -> Answer {
        let response = try await client.execute(outgoing, timeout: .seconds(600))
        var headers = HTTPHeaders()
        let dateShift = state.withLock { $0.dateShift }
        for (name, value) in response.headers where !Self.hopByHop.contains(name.lowercased()) {
            if name.lowercased() == "date", let dateShift {
                headers.add(name: name, value: Self.httpDate(Date().addingTimeInterval(Double(dateShift))))
            } else if name.lowercased() == "location" {
                headers.add(name: name, value: value.replacingOccurrences(of: "//\(upstream)/", with: "//\(address)/"))
            } else {
                headers.add(name: name, value: value)
            }
        }
        let length = response.headers.first(name: "content-length")
        let head = { (length: String?) -> HTTPResponseHead in
            var all = headers
            if let length { all.add(name: "Content-Length", value: length) }
            return HTTPResponseHead(version: request.version, status: response.status, headers: all)
        }
        if request.method == .HEAD { return .buffered(head(length), ByteBuffer()) }
        if !collect, let length, let size = Int(length), size > Self.streamingThreshold {
            return .streamed(head(length), response.body)
        }
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return .buffered(head("\(bytes.readableBytes)"), bytes)
    }

    private func write(_ answer: Answer, extra: [(String, String)],
                       to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws {
        switch answer {
        case .buffered(var head, let body):
            head.headers.add(contentsOf: extra)
            try await outbound.write(.head(head))
            if body.readableBytes > 0 { try await outbound.write(.body(.byteBuffer(body))) }
        case .streamed(var head, let body):
            head.headers.add(contentsOf: extra)
            try await outbound.write(.head(head))
            for try await chunk in body { try await outbound.write(.body(.byteBuffer(chunk))) }
        }
        try await outbound.write(.end(nil))
    }

    /// An IMF-fixdate (`Wed, 02 Dec 2026 20:51:31 GMT`), as servers write `Date`.
    static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }

    /// Closes with a TCP reset (SO_LINGER 0) so the client sees "connection reset by peer".
    func abort(_ channel: Channel) async {
        try? await (channel as? SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        try? await channel.close()
    }

    static let hopByHop: Set<String> = ["connection", "keep-alive", "transfer-encoding", "host", "te", "trailer",
                                        "upgrade", "proxy-connection", "content-length"]
}
