/// A tag such as `latest` or `1.2.0`: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
///
/// See https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests (the `<reference>` rules).
public struct Tag: Hashable, Sendable, CustomStringConvertible {
    /// The validated tag.
    public let value: String

    /// Validates `text`; the error says which character or rule is wrong.
    public init(validating text: String) throws(ReferenceError) {
        guard let first = text.utf8.first else { throw ReferenceError("tag is empty") }
        let shown = ReferenceError.clip(text)
        let length = text.utf8.count
        if length > 128 {
            throw ReferenceError("tag '\(shown)' is invalid: longer than 128 characters (\(length))")
        }
        if !Self.isWordByte(first) {
            throw ReferenceError("tag '\(shown)' is invalid: must start with a letter, digit or '_'")
        }
        for byte in text.utf8 where !(Self.isWordByte(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")) {
            let character = byte < 0x80 ? String(Character(Unicode.Scalar(byte))) : "non-ascii text"
            throw ReferenceError("tag '\(shown)' is invalid: contains '\(character)' (allowed: letters, digits, '_', '.', '-')")
        }
        self.value = text
    }

    public var description: String { value }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
    }
}
