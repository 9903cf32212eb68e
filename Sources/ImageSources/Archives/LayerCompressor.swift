import CompressNIO
import Foundation
import NIOCore
import OCI

/// Gzips the uncompressed layer tars of a classic `docker save` archive into a cache, once per layer: zlib's
/// output for the same input and level is the same on every run, so the same archive always gives the same layer
/// digests, and a second push (or a second service with the same base layers) reuses the file.
public struct LayerCompressor: Sendable {
    /// Where compressed layers are kept: `$STEVEDORE_CACHE_DIR`, else `$XDG_CACHE_HOME/stevedore/layers`, else
    /// `~/.cache/stevedore/layers`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let directory = environment["STEVEDORE_CACHE_DIR"], !directory.isEmpty { return directory }
        let cache = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.cache"
        return cache + "/stevedore/layers"
    }

    let directory: String

    /// The gzip of `layer` (an uncompressed tar whose sha256 must be `diffID`): its file, digest and size.
    func gzip(_ layer: BlobContent, diffID: Digest, source: String) throws(ImageSourceError) -> (BlobContent, Digest, Int64) {
        let target = "\(directory)/\(diffID.encoded).tar.gz"
        let record = target + ".digest"
        if let recorded = try? String(contentsOfFile: record, encoding: .utf8),
           let digest = try? Digest(parsing: recorded.trimmingCharacters(in: .whitespacesAndNewlines)),
           let size = (try? FileManager.default.attributesOfItem(atPath: target)[.size] as? NSNumber)?.int64Value {
            return (.file(path: target, offset: 0, length: size), digest, size)
        }
        guard case let .file(path, offset, length) = layer else {
            throw ImageSourceError(source, "has a layer that is not in a file")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ImageSourceError(directory, "cannot be created to hold compressed layers; set STEVEDORE_CACHE_DIR")
        }
        let temporary = target + ".partial-\(getpid())"
        let (digest, size, input) = try compress(path: path, offset: offset, length: length, into: temporary, source: source)
        guard input == diffID else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw ImageSourceError(source, "has layer \(diffID.short) whose content does not match its diff id (it is \(input))")
        }
        guard rename(temporary, target) == 0 else {
            throw ImageSourceError(directory, "cannot hold the compressed layer \(target)")
        }
        try? Data((digest.description + "\n").utf8).write(to: URL(fileURLWithPath: record), options: .atomic)
        return (.file(path: target, offset: 0, length: size), digest, size)
    }

    /// Streams the file region through zlib (gzip, level 6) into `output`; returns the output's digest and size,
    /// and the input's digest.
    private func compress(path: String, offset: Int64, length: Int64, into output: String,
                          source: String) throws(ImageSourceError) -> (Digest, Int64, Digest) {
        guard let input = FileHandle(forReadingAtPath: path) else { throw ImageSourceError(path, "cannot be read") }
        defer { try? input.close() }
        guard FileManager.default.createFile(atPath: output, contents: nil),
              let out = FileHandle(forWritingAtPath: output) else {
            throw ImageSourceError(output, "cannot be written")
        }
        defer { try? out.close() }
        var outputDigest = Digester(), inputDigest = Digester()
        var written: Int64 = 0
        do {
            let compressor = try ZlibCompressor(algorithm: .gzip, configuration: .init(compressionLevel: .compressionLevel6))
            var buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)
            func emit() throws {
                buffer.withUnsafeReadableBytes { outputDigest.update($0) }
                written += Int64(buffer.readableBytes)
                try out.write(contentsOf: Data(buffer.readableBytesView))
                buffer.clear()
            }
            try input.seek(toOffset: UInt64(offset))
            var left = length
            while left > 0 {
                let data = try input.read(upToCount: Int(min(left, 1 << 20))) ?? Data()
                guard !data.isEmpty else { throw ImageSourceError(source, "is truncated inside a layer") }
                left -= Int64(data.count)
                data.withUnsafeBytes { inputDigest.update($0) }
                var chunk = ByteBuffer(bytes: data)
                buffer.reserveCapacity(minimumWritableBytes: compressor.maxSize(from: chunk))
                try compressor.deflate(from: &chunk, to: &buffer, flush: .no)
                try emit()
            }
            var empty = ByteBuffer()
            while true {
                buffer.reserveCapacity(minimumWritableBytes: 1 << 16)
                do {
                    try compressor.deflate(from: &empty, to: &buffer, flush: .finish)
                    try emit()
                    break
                } catch let error as CompressNIOError where error == .bufferOverflow {
                    try emit()
                }
            }
        } catch let error as ImageSourceError {
            throw error
        } catch {
            throw ImageSourceError(source, "could not be compressed (\(error))")
        }
        return (outputDigest.finalize(), written, inputDigest.finalize())
    }
}
