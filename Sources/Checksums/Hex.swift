/// Lowercase hexadecimal, the form every checksum and digest takes in Stevedore's output, files and database.
public enum Hex {
    /// Lowercase hex of `bytes`, through a lookup table.
    public static func lowercase(_ bytes: some Sequence<UInt8>) -> String {
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in encode(UnsafeRawBufferPointer(buffer)) }
        return contiguous ?? Array(bytes).withUnsafeBytes(encode)
    }

    /// Lowercase hex of raw memory.
    public static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        let table: StaticString = "0123456789abcdef"
        return table.withUTF8Buffer { digits in
            String(unsafeUninitializedCapacity: bytes.count * 2) { out in
                var index = 0
                for byte in bytes {
                    out[index] = digits[Int(byte >> 4)]
                    out[index + 1] = digits[Int(byte & 0x0f)]
                    index += 2
                }
                return index
            }
        }
    }

    /// The bytes of an even-length hex string (either case); nil for anything else.
    public static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    /// Whether every character is `0-9` or `a-f`.
    public static func isLowercase(_ text: some StringProtocol) -> Bool {
        text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x61...0x66: byte - 0x61 + 10
        case 0x41...0x46: byte - 0x41 + 10
        default: nil
        }
    }
}
