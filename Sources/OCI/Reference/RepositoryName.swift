/// A repository name such as `team/web`: the `<name>` in `/v2/<name>/...`.
///
/// Rules from https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests :
/// path components `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` separated by `/`, at most 255 characters in total.
/// Validated by hand (no regex) because names are checked for every job.
public struct RepositoryName: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// The validated name.
    public let value: String

    /// Validates `text`; the error names the offending component and the broken rule.
    public init(validating text: String) throws(ReferenceError) {
        if text.isEmpty { throw ReferenceError("repository name is empty") }
        let shown = ReferenceError.clip(text)
        let length = text.utf8.count
        if length > 255 {
            throw ReferenceError("repository name '\(shown)' is invalid: longer than 255 characters (\(length))")
        }
        for component in text.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if let why = Self.componentProblem(component) {
                throw ReferenceError("repository name '\(shown)' is invalid: \(why)")
            }
        }
        self.value = text
    }

    public var description: String { value }

    public static func < (lhs: RepositoryName, rhs: RepositoryName) -> Bool { lhs.value < rhs.value }

    /// Why one path component breaks `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, or nil when it is fine.
    private static func componentProblem(_ bytes: Substring.UTF8View.SubSequence) -> String? {
        if bytes.isEmpty { return "empty path component (check the slashes)" }
        let name = String(decoding: bytes, as: UTF8.self)
        let quoted = "component '\(ReferenceError.clip(name))'"
        var sawUppercase = false
        for byte in bytes {
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") {
                sawUppercase = true
            } else if !isLowerAlphanumeric(byte) && !isSeparator(byte) {
                let shown = byte < 0x80 ? String(Character(Unicode.Scalar(byte))) : "non-ascii text"
                return "\(quoted) contains '\(shown)' (allowed: a-z, 0-9, '.', '_', '-')"
            }
        }
        if sawUppercase { return "must be lowercase (\(quoted))" }
        if !isLowerAlphanumeric(bytes.first!) { return "\(quoted) must start with a letter or digit" }
        if !isLowerAlphanumeric(bytes.last!) { return "\(quoted) must end with a letter or digit" }

        // Between alphanumeric runs: exactly ".", "_", "__", or one or more "-".
        var index = bytes.startIndex
        while index < bytes.endIndex {
            guard isSeparator(bytes[index]) else {
                index = bytes.index(after: index)
                continue
            }
            var end = index
            while end < bytes.endIndex, isSeparator(bytes[end]) { end = bytes.index(after: end) }
            let run = bytes[index..<end]
            let valid = run.elementsEqual(".".utf8) || run.elementsEqual("_".utf8) || run.elementsEqual("__".utf8)
                || run.allSatisfy { $0 == UInt8(ascii: "-") }
            if !valid {
                let separator = String(decoding: run, as: UTF8.self)
                return "\(quoted) has the separator '\(separator)' (use '.', '_', '__' or dashes between letters and digits)"
            }
            index = end
        }
        return nil
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private static func isSeparator(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }
}
