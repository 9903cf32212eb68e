import Foundation
import OCI

/// Where the blobs of a layout are: a directory (`blobs/<algorithm>/<hex>`) or the same inside a tar archive.
/// Blob bytes are never loaded whole except for manifests and configs; their content is a file region.
struct BlobStore: Sendable {
    enum Storage: Sendable {
        case directory(String)
        /// The tar, and the path of the layout inside it ("" for the archive's root).
        case archive(TarIndex, prefix: String)
    }

    let storage: Storage
    /// For messages: the directory or archive.
    let location: String

    func relativePath(_ digest: Digest) -> String { "blobs/\(digest.algorithm)/\(digest.encoded)" }

    /// The file region holding `digest`; `expectedSize` is checked.
    func content(_ digest: Digest, expectedSize: Int64?) throws(ImageSourceError) -> BlobContent {
        let (path, offset, size): (String, Int64, Int64)
        switch storage {
        case .directory(let directory):
            path = "\(directory)/\(relativePath(digest))"
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                  (attributes[.type] as? FileAttributeType) == .typeRegular,
                  let length = (attributes[.size] as? NSNumber)?.int64Value else {
                throw ImageSourceError(location, "is missing blob \(digest) (no file \(relativePath(digest)))")
            }
            (offset, size) = (0, length)
        case let .archive(tar, prefix):
            let name = (prefix.isEmpty ? "" : prefix + "/") + relativePath(digest)
            guard let entry = try? tar.file(name) else {
                throw ImageSourceError(location, "is missing blob \(digest) (no entry \(name))")
            }
            (path, offset, size) = (tar.path, entry.offset, entry.size)
        }
        if let expectedSize, expectedSize != size {
            throw ImageSourceError(location, "has blob \(digest) of \(size) bytes where its descriptor says \(expectedSize)")
        }
        return .file(path: path, offset: offset, length: size)
    }

    /// A small blob (manifest, config) read whole and checked against its digest.
    func bytes(_ digest: Digest, expectedSize: Int64?, limit: Int) throws(ImageSourceError) -> [UInt8] {
        let content = try content(digest, expectedSize: expectedSize)
        guard case let .file(path, offset, length) = content else { return [] }
        guard length <= Int64(limit) else {
            throw ImageSourceError(location, "has blob \(digest) of \(length) bytes, over the \(limit >> 20) MiB a manifest or config may have")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ImageSourceError(location, "cannot be read") }
        defer { try? handle.close() }
        let bytes = (try? TarIndex.read(handle, at: offset, count: Int(length), path: location)) ?? []
        guard bytes.count == Int(length), Digest.sha256(bytes) == digest else {
            throw ImageSourceError(location, "has blob \(digest) whose content does not match its digest")
        }
        return bytes
    }

    /// A small file of the layout (`index.json`, `oci-layout`), nil when absent.
    func file(_ name: String, limit: Int) throws(ImageSourceError) -> [UInt8]? {
        switch storage {
        case .directory(let directory):
            let path = "\(directory)/\(name)"
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            guard let data = FileManager.default.contents(atPath: path) else { throw ImageSourceError(path, "cannot be read") }
            guard data.count <= limit else { throw ImageSourceError(path, "is over \(limit >> 20) MiB") }
            return [UInt8](data)
        case let .archive(tar, prefix):
            let entry = (prefix.isEmpty ? "" : prefix + "/") + name
            guard tar.entries[entry] != nil else { return nil }
            return try tar.read(entry, limit: limit)
        }
    }
}
