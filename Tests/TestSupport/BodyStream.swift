import NIOCore
import Synchronization

/// A request body on its way through `FaultProxy`: the connection's reader sends chunks in, the HTTP
/// client reads them out, and at most about `limit` bytes wait in between (the reader waits when more
/// are buffered), so a body of hundreds of MB is never held whole.
///
/// One producer, one consumer. `abandon()` (the consumer is done, e.g. the registry answered early)
/// wakes the producer and drops whatever it sends from then on.
final class BodyStream: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    private struct State {
        var chunks: [ByteBuffer] = []
        var buffered = 0
        var finished = false
        var failure: (any Error)?
        var abandoned = false
        var consumer: CheckedContinuation<ByteBuffer?, any Error>?
        var producer: CheckedContinuation<Void, Never>?
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int = 4 << 20) {
        self.limit = limit
    }

    /// Adds a chunk, waiting while `limit` bytes or more are buffered.
    func send(_ chunk: ByteBuffer) async {
        let mustWait: Bool = state.withLock { state in
            guard !state.abandoned, !state.finished else { return false }
            if let consumer = state.consumer {
                state.consumer = nil
                consumer.resume(returning: chunk)
                return false
            }
            state.chunks.append(chunk)
            state.buffered += chunk.readableBytes
            return state.buffered >= limit
        }
        guard mustWait else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state in
                if state.abandoned || state.buffered < limit { return true }
                state.producer = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Ends the body; with `error`, the consumer's next read throws it (the HTTP client then aborts).
    func finish(throwing error: (any Error)? = nil) {
        state.withLock { state in
            guard !state.finished else { return }
            state.finished = true
            state.failure = error
            if let consumer = state.consumer {
                state.consumer = nil
                if let error { consumer.resume(throwing: error) } else { consumer.resume(returning: nil) }
            }
        }
    }

    /// The consumer will read no more: wake a waiting producer and drop later chunks.
    func abandon() {
        state.withLock { state in
            state.abandoned = true
            state.chunks.removeAll()
            state.buffered = 0
            state.producer?.resume()
            state.producer = nil
        }
    }

    private func next() async throws -> ByteBuffer? {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ByteBuffer?, any Error>) in
            state.withLock { state in
                if !state.chunks.isEmpty {
                    let chunk = state.chunks.removeFirst()
                    state.buffered -= chunk.readableBytes
                    if state.buffered < limit, let producer = state.producer {
                        state.producer = nil
                        producer.resume()
                    }
                    continuation.resume(returning: chunk)
                } else if state.finished {
                    if let failure = state.failure { continuation.resume(throwing: failure) } else { continuation.resume(returning: nil) }
                } else {
                    state.consumer = continuation
                }
            }
        }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let stream: BodyStream
        func next() async throws -> ByteBuffer? { try await stream.next() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(stream: self) }
}
