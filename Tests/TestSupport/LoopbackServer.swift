import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// An HTTP/1.1 server on a free loopback port (127.0.0.1 unless told) that hands each connection to a handler; the base of the
/// in-process fixtures (`FaultProxy`, `TokenServer`).
final class LoopbackServer: Sendable {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    let port: Int
    private let channel: NIOAsyncChannel<Connection, Never>
    private let serving = Mutex<Task<Void, Never>?>(nil)

    /// Binds a free port on `host` (a loopback address); nothing is accepted until `serve` is called.
    static func bind(host: String = "127.0.0.1") async throws -> LoopbackServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: 0) { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    try child.pipeline.syncOperations.addHandler(ArrivalStamps())
                    return try Connection(wrappingChannelSynchronously: child)
                }
            }
        return LoopbackServer(channel: channel)
    }

    private init(channel: NIOAsyncChannel<Connection, Never>) {
        self.channel = channel
        self.port = channel.channel.localAddress?.port ?? 0
    }

    /// Accepts connections, each handled concurrently, until `stop`.
    func serve(_ handle: @escaping @Sendable (Connection) async -> Void) {
        let task = Task { [channel] in
            _ = try? await channel.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in inbound {
                        group.addTask { await handle(connection) }
                    }
                }
            }
        }
        serving.withLock { $0 = task }
    }

    func stop() async {
        try? await channel.channel.close()
        serving.withLock { $0 }?.cancel()
    }
}

/// Notes when each request head came off the wire, on the event loop, before a task gets to it: a busy test machine
/// delays the tasks, not the stamps (the fault proxy's request times come from here).
final class ArrivalStamps: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    private let stamps = Mutex<[ContinuousClock.Instant]>([])

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { stamps.withLock { $0.append(.now) } }
        context.fireChannelRead(data)
    }

    /// The arrival of the oldest head not asked about yet.
    func next() -> ContinuousClock.Instant? { stamps.withLock { $0.isEmpty ? nil : $0.removeFirst() } }

    /// The stamps of `channel`'s requests.
    static func of(_ channel: Channel) async -> ArrivalStamps? {
        try? await channel.pipeline.handler(type: ArrivalStamps.self).get()
    }
}
