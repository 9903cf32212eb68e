import NIOCore

/// A request body: bytes in memory, or a stream of chunks of known or unknown length.
///
/// A stream body is a factory: every send starts it from the beginning, so a request can be repeated (after an
/// authentication challenge, say) without the caller holding the bytes.
public struct HTTPBody: Sendable {
    public enum Length: Sendable, Equatable {
        /// Sent with `Content-Length`.
        case known(Int64)
        /// Sent with chunked transfer encoding.
        case unknown
    }

    enum Content: Sendable {
        case buffer(ByteBuffer)
        case stream(@Sendable () -> ByteChunks)
    }

    public let length: Length
    let content: Content

    /// A body held in memory.
    public static func bytes(_ bytes: some Sequence<UInt8>) -> HTTPBody {
        let buffer = ByteBuffer(bytes: bytes)
        return HTTPBody(length: .known(Int64(buffer.readableBytes)), content: .buffer(buffer))
    }

    /// A body produced while it is sent; `make` is called once per send.
    public static func stream(length: Length, _ make: @escaping @Sendable () -> ByteChunks) -> HTTPBody {
        HTTPBody(length: length, content: .stream(make))
    }

    /// The bytes of an in-memory body; nil for a stream.
    public var buffer: ByteBuffer? {
        if case .buffer(let buffer) = content { return buffer }
        return nil
    }

    /// The body's chunks from the start (an in-memory body is one chunk).
    public func chunks() -> ByteChunks {
        switch content {
        case .buffer(let buffer): ByteChunks(single: buffer)
        case .stream(let make): make()
        }
    }

    /// Bytes to send when known, for metering and `Content-Length`.
    public var knownLength: Int64? {
        if case .known(let count) = length { return count }
        return nil
    }

    /// The same body with every chunk passed to `observe` as it is read (metering, hashing).
    public func observing(_ observe: @escaping @Sendable (ByteBuffer) -> Void) -> HTTPBody {
        HTTPBody.stream(length: length) { [self] in chunks().observing(observe) }
    }
}

/// An asynchronous sequence of byte chunks, the currency of streamed bodies.
public struct ByteChunks: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    private let make: @Sendable () -> AsyncIterator

    /// Chunks produced by `next` until it returns nil. A fresh iterator state is made per iteration by `start`.
    public init(_ start: @escaping @Sendable () -> (() async throws -> ByteBuffer?)) {
        make = { AsyncIterator(produce: start()) }
    }

    /// Wraps any sendable sequence of `ByteBuffer`s.
    public init<Base: AsyncSequence & Sendable>(_ base: Base) where Base.Element == ByteBuffer {
        self.init {
            var iterator = base.makeAsyncIterator()
            return { try await iterator.next() }
        }
    }

    /// One chunk.
    public init(single buffer: ByteBuffer) {
        self.init {
            var sent = false
            return {
                guard !sent else { return nil }
                sent = true
                return buffer
            }
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let produce: () async throws -> ByteBuffer?

        public mutating func next() async throws -> ByteBuffer? {
            try Task.checkCancellation()
            return try await produce()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { make() }

    /// The same chunks, each passed to `observe` first.
    public func observing(_ observe: @escaping @Sendable (ByteBuffer) -> Void) -> ByteChunks {
        ByteChunks { [self] in
            var iterator = makeAsyncIterator()
            return {
                guard let chunk = try await iterator.next() else { return nil }
                observe(chunk)
                return chunk
            }
        }
    }
}
