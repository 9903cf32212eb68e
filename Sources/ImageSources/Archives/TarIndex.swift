import Foundation

/// The entries of a tar file and where their bytes lie in it, read from the headers alone, so a blob inside an
/// `oci-archive` or a `docker save` archive is streamed from the archive without extracting anything.
///
/// Understands ustar and GNU tar as `docker save`, buildah, skopeo and GNU tar write them: regular files, hard and
/// symbolic links, directories, pax extended headers (`path`, `linkpath`, `size`) and GNU long names. See POSIX
/// pax's "ustar Interchange Format" and "pax Extended Header".
public struct TarIndex: Sendable {
    public struct Entry: Sendable, Equatable {
        public enum Kind: Sendable, Equatable { case file, directory, symlink(String), hardlink(String), other }
        /// The normalized path (no `./`, no trailing `/`).
        public let name: String
        public let kind: Kind
        /// Where the entry's bytes start in the archive, and how many there are.
        public let offset: Int64
        public let size: Int64
    }

    public let path: String
    public let entries: [String: Entry]

    /// Reads every header of the tar at `path`. Broken input (a truncated archive, a header that does not check
    /// out, a name that escapes the archive) is an ``ImageSourceError`` naming the file.
    public init(path: String) throws(ImageSourceError) {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ImageSourceError(path, "cannot be read (missing or not permitted)")
        }
        defer { try? handle.close() }
        let length = Int64((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0)
        var entries: [String: Entry] = [:]
        var offset: Int64 = 0
        var pending = PendingNames()
        while offset + 512 <= length {
            let header = try Self.read(handle, at: offset, count: 512, path: path)
            if header.allSatisfy({ $0 == 0 }) { break }
            guard Self.checksumMatches(header) else {
                throw ImageSourceError(path, "is not a tar archive or is damaged (bad header at byte \(offset))")
            }
            let size = try Self.octal(header[124..<136], path: path, offset: offset)
            let typeflag = header[156]
            let dataOffset = offset + 512
            guard dataOffset + size <= length else {
                throw ImageSourceError(path, "is truncated: an entry at byte \(offset) needs \(size) bytes, the file ends first")
            }
            offset = dataOffset + (size + 511) / 512 * 512
            switch typeflag {
            case UInt8(ascii: "x"):
                pending.apply(pax: try Self.read(handle, at: dataOffset, count: Int(size), path: path))
                continue
            case UInt8(ascii: "g"):
                continue
            case UInt8(ascii: "L"):
                pending.name = Self.string(try Self.read(handle, at: dataOffset, count: Int(size), path: path)[...])
                continue
            case UInt8(ascii: "K"):
                pending.link = Self.string(try Self.read(handle, at: dataOffset, count: Int(size), path: path)[...])
                continue
            default:
                break
            }
            var name = pending.name ?? Self.headerName(header)
            let link = pending.link ?? Self.string(header[157..<257])
            let entrySize = pending.size ?? size
            pending = PendingNames()
            name = try Self.normalize(name, path: path)
            let kind: Entry.Kind = switch typeflag {
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): .file
            case UInt8(ascii: "5"): .directory
            case UInt8(ascii: "2"): .symlink(link)
            case UInt8(ascii: "1"): .hardlink(try Self.normalize(link, path: path))
            default: .other
            }
            entries[name] = Entry(name: name, kind: kind, offset: dataOffset, size: entrySize)
        }
        if offset < length, length - offset < 512, entries.isEmpty {
            throw ImageSourceError(path, "is truncated or not a tar archive")
        }
        self.entries = entries
    }

    /// The regular file at `name`, following symbolic and hard links inside the archive (legacy `docker save`
    /// entries are symlinks to the layer tars).
    public func file(_ name: String) throws(ImageSourceError) -> Entry {
        var current = try Self.normalize(name, path: path)
        for _ in 0..<16 {
            guard let entry = entries[current] else {
                throw ImageSourceError(path, "has no entry \(name)")
            }
            switch entry.kind {
            case .file: return entry
            case .hardlink(let target): current = target
            case .symlink(let target):
                let base = current.split(separator: "/").dropLast().joined(separator: "/")
                current = try Self.normalize(target.hasPrefix("/") ? target : (base.isEmpty ? target : base + "/" + target),
                                             path: path)
            case .directory, .other:
                throw ImageSourceError(path, "entry \(name) is not a regular file")
            }
        }
        throw ImageSourceError(path, "entry \(name) is a loop of links")
    }

    /// The bytes of a small entry (a manifest, a config), refusing anything over `limit`.
    public func read(_ name: String, limit: Int) throws(ImageSourceError) -> [UInt8] {
        let entry = try file(name)
        guard entry.size <= Int64(limit) else {
            throw ImageSourceError(path, "entry \(name) is \(entry.size) bytes, over the \(limit >> 20) MiB allowed")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ImageSourceError(path, "cannot be read") }
        defer { try? handle.close() }
        return try Self.read(handle, at: entry.offset, count: Int(entry.size), path: path)
    }

    // MARK: Header fields

    private struct PendingNames {
        var name: String?
        var link: String?
        var size: Int64?

        /// `length key=value\n` records.
        mutating func apply(pax data: [UInt8]) {
            var index = 0
            while index < data.count {
                guard let space = data[index...].firstIndex(of: UInt8(ascii: " ")),
                      let length = Int(TarIndex.string(data[index..<space])), length > 0, index + length <= data.count else { return }
                let record = data[(space + 1)..<(index + length - 1)]
                if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                    let key = TarIndex.string(record[record.startIndex..<equals])
                    let value = String(decoding: record[(equals + 1)...], as: UTF8.self)
                    switch key {
                    case "path": name = value
                    case "linkpath": link = value
                    case "size": size = Int64(value)
                    default: break
                    }
                }
                index += length
            }
        }
    }

    static func headerName(_ header: [UInt8]) -> String {
        let name = string(header[0..<100])
        let magic = string(header[257..<263])
        guard magic.hasPrefix("ustar") else { return name }
        let prefix = string(header[345..<500])
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    static func string(_ bytes: ArraySlice<UInt8>) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
    }

    static func octal(_ field: ArraySlice<UInt8>, path: String, offset: Int64) throws(ImageSourceError) -> Int64 {
        if let first = field.first, first & 0x80 != 0 {
            // GNU base-256 for sizes over 8 GiB.
            return field.dropFirst().reduce(Int64(first & 0x7f)) { $0 << 8 | Int64($1) }
        }
        let digits = string(field).trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
        guard let value = Int64(digits.isEmpty ? "0" : digits, radix: 8) else {
            throw ImageSourceError(path, "has a damaged header at byte \(offset)")
        }
        return value
    }

    static func checksumMatches(_ header: [UInt8]) -> Bool {
        let stored = string(header[148..<156]).trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
        guard let expected = Int(stored, radix: 8) else { return false }
        var sum = 0
        for (index, byte) in header.enumerated() { sum += (148..<156).contains(index) ? 32 : Int(byte) }
        return sum == expected
    }

    /// `./a/b/` -> `a/b`; refuses absolute paths and `..`, which would point outside the archive.
    static func normalize(_ name: String, path: String) throws(ImageSourceError) -> String {
        var parts: [Substring] = []
        for part in name.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            if part == ".." { throw ImageSourceError(path, "entry \(name) points outside the archive") }
            parts.append(part)
        }
        return parts.joined(separator: "/")
    }

    static func read(_ handle: FileHandle, at offset: Int64, count: Int, path: String) throws(ImageSourceError) -> [UInt8] {
        do {
            try handle.seek(toOffset: UInt64(offset))
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else { throw ImageSourceError(path, "is truncated at byte \(offset)") }
            return [UInt8](data)
        } catch let error as ImageSourceError {
            throw error
        } catch {
            throw ImageSourceError(path, "cannot be read at byte \(offset)")
        }
    }
}
