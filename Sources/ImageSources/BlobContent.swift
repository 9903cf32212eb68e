import Foundation
import HTTPTransport
import NIOCore
import OCI

/// Where a blob's bytes are read from when it is uploaded: memory, a region of a file read in chunks, or a source
/// registry streaming it (never whole into memory).
public enum BlobContent: Sendable {
    case bytes([UInt8])
    /// `length` bytes of the file at `path`, from `offset`.
    case file(path: String, offset: Int64, length: Int64)
    /// The blob `digest` of `size` bytes in a repository of a source registry, streamed and checked on the way.
    case remote(RemoteBlobSource, digest: Digest, size: Int64)

    /// The content as a request body; a file is opened anew for every send.
    public func body() -> HTTPBody {
        switch self {
        case .bytes(let bytes):
            return .bytes(bytes)
        case let .file(path, offset, length):
            return .file(path: path, offset: offset, length: length)
        case let .remote(source, digest, size):
            return .stream(length: .known(size)) { source.chunks(digest: digest, size: size) }
        }
    }

    /// `length` bytes from `offset` of the content (one chunk of a chunked upload), read directly from the file.
    public func body(offset: Int64, length: Int64) -> HTTPBody {
        switch self {
        case .bytes(let bytes):
            return .bytes(bytes[Int(offset)..<Int(offset + length)])
        case let .file(path, start, _):
            return .file(path: path, offset: start + offset, length: length)
        case let .remote(source, digest, size):
            return .stream(length: .known(length)) {
                source.chunks(digest: digest, size: size, from: offset, length: length)
            }
        }
    }
}

extension BlobContent {
    /// The sha256 digest and length of the content, read once in chunks (the input check before a push).
    func digest() throws(ImageSourceError) -> (digest: Digest, size: Int64) {
        switch self {
        case let .remote(_, digest, size):
            return (digest, size)  // checked while it streams
        case .bytes(let bytes):
            return (Digest.sha256(bytes), Int64(bytes.count))
        case let .file(path, offset, length):
            guard let handle = FileHandle(forReadingAtPath: path) else { throw ImageSourceError(path, "cannot be read") }
            defer { try? handle.close() }
            var digester = Digester()
            do {
                try handle.seek(toOffset: UInt64(offset))
                var left = length
                while left > 0 {
                    let chunk = try handle.read(upToCount: Int(min(left, 1 << 20))) ?? Data()
                    guard !chunk.isEmpty else { throw ImageSourceError(path, "ended early (truncated?)") }
                    chunk.withUnsafeBytes { digester.update($0) }
                    left -= Int64(chunk.count)
                }
            } catch let error as ImageSourceError {
                throw error
            } catch {
                throw ImageSourceError(path, "cannot be read")
            }
            return (digester.finalize(), length)
        }
    }
}
