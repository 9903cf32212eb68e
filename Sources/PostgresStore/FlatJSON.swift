import AuditStore

/// Reads the JSON PostgreSQL's `row_to_json` writes for a row of integers and texts: one flat object whose values are
/// integers, strings (JSON escapes, `\uXXXX` with surrogate pairs) or null. Foundation's general parser cost about
/// 20 µs a row, a tenth of a whole finish; this reads the bytes once. Anything else (a nested value, a fraction) is
/// refused as nil.
enum FlatJSON {
    static func object(_ text: String) -> [String: LedgerValue]? {
        var bytes = Array(text.utf8)[...]
        func skipSpace() { while let byte = bytes.first, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { bytes.removeFirst() } }
        func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard bytes.first == byte else { return false }
            bytes.removeFirst()
            return true
        }
        guard take(0x7B) else { return nil }  // {
        var object: [String: LedgerValue] = [:]
        if take(0x7D) { return object }  // }
        repeat {
            skipSpace()
            guard let key = string(&bytes), take(0x3A) else { return nil }  // :
            skipSpace()
            switch bytes.first {
            case 0x22: guard let value = string(&bytes) else { return nil }; object[key] = .text(value)
            case 0x6E: guard bytes.starts(with: Array("null".utf8)) else { return nil }; bytes.removeFirst(4); object[key] = .null
            default: guard let value = integer(&bytes) else { return nil }; object[key] = .integer(value)
            }
        } while take(0x2C)  // ,
        return take(0x7D) ? object : nil
    }

    /// A quoted string at the front of `bytes`, unescaped.
    static func string(_ bytes: inout ArraySlice<UInt8>) -> String? {
        guard bytes.first == 0x22 else { return nil }
        bytes.removeFirst()
        var utf8: [UInt8] = []
        var pendingHigh: UInt32?
        while let byte = bytes.popFirst() {
            switch byte {
            case 0x22:
                return pendingHigh == nil ? String(decoding: utf8, as: UTF8.self) : nil
            case 0x5C:
                guard let escape = bytes.popFirst() else { return nil }
                let simple: [UInt8: UInt8] = [0x22: 0x22, 0x5C: 0x5C, 0x2F: 0x2F, 0x62: 0x08, 0x66: 0x0C, 0x6E: 0x0A,
                                              0x72: 0x0D, 0x74: 0x09]
                if let plain = simple[escape] { utf8.append(plain); continue }
                guard escape == 0x75, bytes.count >= 4,
                      let unit = UInt32(String(decoding: bytes.prefix(4), as: UTF8.self), radix: 16) else { return nil }
                bytes.removeFirst(4)
                var scalar = unit
                if (0xD800..<0xDC00).contains(unit) { pendingHigh = unit; continue }
                if (0xDC00..<0xE000).contains(unit) {
                    guard let high = pendingHigh else { return nil }
                    scalar = 0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00)
                    pendingHigh = nil
                }
                guard let character = Unicode.Scalar(scalar) else { return nil }
                utf8.append(contentsOf: Array(String(character).utf8))
            default:
                utf8.append(byte)
            }
        }
        return nil
    }

    /// An integer at the front of `bytes`.
    static func integer(_ bytes: inout ArraySlice<UInt8>) -> Int64? {
        let digits = bytes.prefix { $0 == 0x2D || (0x30...0x39).contains($0) }
        guard !digits.isEmpty, let value = Int64(String(decoding: digits, as: UTF8.self)) else { return nil }
        bytes.removeFirst(digits.count)
        if let next = bytes.first, next == 0x2E || next == 0x65 || next == 0x45 { return nil }
        return value
    }
}
