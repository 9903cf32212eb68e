import HTTPTransport
import NIOCore
import OCI
import Synchronization

/// What a run read from its source registries, for the summary and the benchmark.
public final class SourceMeter: Sendable {
    public struct Counts: Sendable, Equatable {
        /// Blob bytes read (a resumed download counts the bytes of every try).
        public var blobBytes: Int64 = 0
        public var blobRequests = 0
        /// Downloads picked up again after the connection broke (with a Range request where the source allows).
        public var resumes = 0
        public var manifestRequests = 0
    }

    private let counts = Mutex(Counts())
    /// The error each blob's download last failed with: an upload whose body broke reports it instead of its own.
    private let failures = Mutex([Digest: any Error]())

    public init() {}

    /// Why the download of `digest` failed last, once (nil: it did not).
    public func takeFailure(of digest: Digest) -> (any Error)? {
        failures.withLock { $0.removeValue(forKey: digest) }
    }

    func failed(_ digest: Digest, _ error: any Error) { failures.withLock { $0[digest] = error } }

    public var snapshot: Counts { counts.withLock { $0 } }

    func read(_ bytes: Int) { counts.withLock { $0.blobBytes += Int64(bytes) } }
    func blobRequest() { counts.withLock { $0.blobRequests += 1 } }
    func resumed() { counts.withLock { $0.resumes += 1 } }
    func manifestRequest() { counts.withLock { $0.manifestRequests += 1 } }
}

/// One repository of a source registry that blobs are streamed from while they are uploaded elsewhere.
///
/// A download that breaks (reset, timeout) is picked up where it stopped with `Range: bytes=N-`; a source that
/// ignores the Range (200) is read again from the start, the bytes already passed on skipped. A whole blob is
/// checked against its digest as it streams: a mismatch fails the body at its end, so the destination never
/// completes the upload.
public struct RemoteBlobSource: Sendable {
    public let client: RegistryClient
    public let repository: RepositoryName
    public let meter: SourceMeter
    /// Downloads of one body resumed at most this often.
    static let maximumResumes = 4

    public init(client: RegistryClient, repository: RepositoryName, meter: SourceMeter) {
        self.client = client
        self.repository = repository
        self.meter = meter
    }

    /// `length` bytes of the blob from `start` (the whole blob by default), as a body that starts over on every send.
    public func chunks(digest: Digest, size: Int64, from start: Int64 = 0, length: Int64? = nil) -> ByteChunks {
        ByteChunks { [self] in
            let end = start + (length ?? size - start)
            var position = start
            var digester: Digester? = start == 0 && end == size ? Digester() : nil
            var current: ByteChunks.AsyncIterator?
            var skip: Int64 = 0
            var resumes = 0
            return {
                while true {
                    if position >= end {
                        if let hasher = digester {
                            digester = nil
                            let read = hasher.finalize()
                            guard read == digest else {
                                let error = RegistryError.digestMismatch(operation: "GET blob \(repository.value) "
                                                                         + digest.short, expected: digest, actual: read)
                                meter.failed(digest, error)
                                throw error
                            }
                        }
                        return nil
                    }
                    do {
                        if current == nil {
                            meter.blobRequest()
                            let download = try await client.downloadBlob(repository: repository, digest: digest,
                                                                         offset: position, size: size)
                            skip = position - download.offset
                            current = download.chunks.makeAsyncIterator()
                        }
                        guard var chunk = try await current!.next() else {
                            throw TransportError(kind: .reset, message: "blob \(digest.short) from \(repository.value) "
                                                 + "ended after \(position) of \(end) bytes")
                        }
                        meter.read(chunk.readableBytes)
                        if skip > 0 {
                            let dropped = Int(min(skip, Int64(chunk.readableBytes)))
                            chunk.moveReaderIndex(forwardBy: dropped)
                            skip -= Int64(dropped)
                            if chunk.readableBytes == 0 { continue }
                        }
                        if position + Int64(chunk.readableBytes) > end {
                            chunk = chunk.getSlice(at: chunk.readerIndex, length: Int(end - position))!
                        }
                        position += Int64(chunk.readableBytes)
                        chunk.withUnsafeReadableBytes { digester?.update($0) }
                        return chunk
                    } catch {
                        guard Self.resumable(error), resumes < Self.maximumResumes, !Task.isCancelled else {
                            meter.failed(digest, error)
                            throw error
                        }
                        resumes += 1
                        meter.resumed()
                        current = nil
                    }
                }
            }
        }
    }

    /// A broken connection or a deadline, not an answer.
    static func resumable(_ error: any Error) -> Bool {
        let transport: TransportError? = switch error {
        case let error as TransportError: error
        case RegistryError.transport(_, let error): error
        default: nil
        }
        return transport.map { $0.kind == .reset || $0.kind == .timeout } ?? false
    }
}
