import Foundation
import NIOCore

extension HTTPBody {
    /// The deadline a long upload of `size` bytes gets: at least the transport's default (nil), plus a second per MiB
    /// above 16 MiB.
    public static func uploadTimeout(_ size: Int64) -> Duration? {
        size > 16 << 20 ? .seconds(60 + size / (1 << 20)) : nil
    }

    /// Chunks read from files.
    public static let fileChunkSize = 256 << 10

    /// `length` bytes of the file at `path` from `offset`, read in chunks as they are sent (never whole into
    /// memory); the file is opened anew for every send, so a retried request sends it again.
    public static func file(path: String, offset: Int64 = 0, length: Int64) -> HTTPBody {
        .stream(length: .known(length)) { FileChunks(path: path, offset: offset, length: length).chunks() }
    }
}

/// Reads a file region in ``HTTPBody/fileChunkSize`` pieces with `pread`.
struct FileChunks: Sendable {
    let path: String
    let offset: Int64
    let length: Int64

    func chunks() -> ByteChunks {
        ByteChunks { [path, offset, length] in
            var descriptor: Int32 = -1
            var position = offset
            let end = offset + length
            return {
                if descriptor < 0 {
                    descriptor = open(path, O_RDONLY | O_CLOEXEC)
                    guard descriptor >= 0 else {
                        throw TransportError(kind: .body, message: "cannot read \(path): \(String(cString: strerror(errno)))")
                    }
                }
                guard position < end else {
                    close(descriptor)
                    descriptor = -1
                    return nil
                }
                let wanted = Int(min(Int64(HTTPBody.fileChunkSize), end - position))
                var buffer = ByteBufferAllocator().buffer(capacity: wanted)
                let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: wanted) { pointer in
                    pread(descriptor, pointer.baseAddress, wanted, off_t(position))
                }
                guard read > 0 else {
                    close(descriptor)
                    descriptor = -1
                    throw TransportError(kind: .body, message: "\(path) ended early (it changed while being read)")
                }
                position += Int64(read)
                return buffer
            }
        }
    }
}

