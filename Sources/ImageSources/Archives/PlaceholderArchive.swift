/// Minimal, deterministic writers for the two archive formats an image layer needs.
///
/// Only what the placeholder needs: regular files in a ustar archive, and gzip using stored
/// (uncompressed) deflate blocks. Both produce the same bytes on every machine and every run,
/// which a compressor library does not promise across versions.
enum Archive {
    /// A ustar archive of regular files with mode 0644, owner 0:0 and mtime 0.
    /// See POSIX pax "ustar Interchange Format".
    static func tar(_ files: [(name: String, contents: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        for file in files {
            var header = [UInt8](repeating: 0, count: 512)
            put(Array(file.name.utf8), into: &header, at: 0, width: 100)
            put(octal(0o644, width: 8), into: &header, at: 100, width: 8)
            put(octal(0, width: 8), into: &header, at: 108, width: 8)
            put(octal(0, width: 8), into: &header, at: 116, width: 8)
            put(octal(file.contents.count, width: 12), into: &header, at: 124, width: 12)
            put(octal(0, width: 12), into: &header, at: 136, width: 12)
            put(Array(repeating: UInt8(ascii: " "), count: 8), into: &header, at: 148, width: 8)
            header[156] = UInt8(ascii: "0")
            put(Array("ustar".utf8) + [0], into: &header, at: 257, width: 6)
            put(Array("00".utf8), into: &header, at: 263, width: 2)
            let checksum = header.reduce(0) { $0 + Int($1) }
            put(octal(checksum, width: 7) + [UInt8(ascii: " ")], into: &header, at: 148, width: 8)
            out += header
            out += file.contents
            out += [UInt8](repeating: 0, count: (512 - file.contents.count % 512) % 512)
        }
        out += [UInt8](repeating: 0, count: 1024)
        return out
    }

    /// A gzip member (RFC 1952) holding `data` in stored deflate blocks (RFC 1951 section 3.2.4).
    static func gzipStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]
        var offset = 0
        repeat {
            let length = min(65_535, data.count - offset)
            let isFinal = offset + length == data.count
            out.append(isFinal ? 1 : 0)
            out += littleEndian(UInt32(length), bytes: 2)
            out += littleEndian(UInt32(~UInt16(length)), bytes: 2)
            out += data[offset..<offset + length]
            offset += length
        } while offset < data.count
        out += littleEndian(crc32(data), bytes: 4)
        out += littleEndian(UInt32(truncatingIfNeeded: data.count), bytes: 4)
        return out
    }

    /// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) as gzip uses it.
    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 {
                crc = (crc >> 1) ^ (0xedb8_8320 & (0 &- (crc & 1)))
            }
        }
        return ~crc
    }

    private static func octal(_ value: Int, width: Int) -> [UInt8] {
        let digits = String(value, radix: 8)
        let padded = String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
        return Array(padded.utf8) + [0]
    }

    private static func put(_ bytes: [UInt8], into header: inout [UInt8], at offset: Int, width: Int) {
        for (index, byte) in bytes.prefix(width).enumerated() { header[offset + index] = byte }
    }

    private static func littleEndian(_ value: UInt32, bytes: Int) -> [UInt8] {
        (0..<bytes).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) }
    }
}
