/// One challenge of a `WWW-Authenticate` header.
///
/// Registries answer 401 with `Bearer realm="…",service="…",scope="…"` (token auth) or `Basic realm="…"`;
/// see https://github.com/opencontainers/distribution-spec/blob/main/spec.md#determining-support and
/// RFC 9110 section 11.6.1 for the syntax.
public struct AuthChallenge: Sendable, Equatable {
    public enum Scheme: String, Sendable { case basic, bearer }

    public let scheme: Scheme
    /// Parameters with lowercased keys: realm, service, scope, error.
    public let parameters: [String: String]

    public init(scheme: Scheme, parameters: [String: String]) {
        self.scheme = scheme
        self.parameters = parameters
    }

    /// The scopes the challenge names (`scope` holds space-separated scopes).
    var scopes: [String] {
        parameters["scope"]?.split(separator: " ").map(String.init) ?? []
    }

    /// Parses every Basic and Bearer challenge in `header`; other schemes and malformed parts are skipped.
    public static func parse(_ header: String) -> [AuthChallenge] {
        var scanner = ChallengeScanner(Array(header.utf8))
        var challenges: [AuthChallenge] = []
        while let (name, parameters) = scanner.nextChallenge() {
            if let scheme = Scheme(rawValue: name.lowercased()) {
                challenges.append(AuthChallenge(scheme: scheme, parameters: parameters))
            }
        }
        return challenges
    }
}

/// A byte scanner over `challenge = scheme [ 1*SP #auth-param ]`, challenges separated by commas.
/// Tolerant: stray characters are skipped, unquoted values run to the next comma or space.
private struct ChallengeScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func nextChallenge() -> (String, [String: String])? {
        while index < bytes.count {
            skipSeparators()
            guard let scheme = token() else {
                if index < bytes.count { index += 1 }
                continue
            }
            var parameters: [String: String] = [:]
            while true {
                let mark = index
                skipSeparators()
                guard let name = token() else { index = mark; break }
                skipSpaces()
                guard peek == UInt8(ascii: "=") else {
                    index = mark  // a bare token starts the next challenge
                    break
                }
                index += 1
                skipSpaces()
                parameters[name.lowercased()] = peek == UInt8(ascii: "\"") ? quoted() : bareValue()
            }
            return (scheme, parameters)
        }
        return nil
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpaces() {
        while let byte = peek, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { index += 1 }
    }

    private mutating func skipSeparators() {
        while let byte = peek, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: ",") {
            index += 1
        }
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        if byte <= 0x20 || byte >= 0x7f { return false }
        switch byte {
        case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "@"),
             UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "\\"), UInt8(ascii: "\""),
             UInt8(ascii: "/"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "?"), UInt8(ascii: "="),
             UInt8(ascii: "{"), UInt8(ascii: "}"):
            return false
        default:
            return true
        }
    }

    private mutating func token() -> String? {
        let start = index
        while let byte = peek, Self.isTokenByte(byte) { index += 1 }
        return index > start ? String(decoding: bytes[start..<index], as: UTF8.self) : nil
    }

    /// An unquoted value: everything up to the next comma or whitespace.
    private mutating func bareValue() -> String {
        let start = index
        while let byte = peek, byte != UInt8(ascii: ","), byte != UInt8(ascii: " "), byte != UInt8(ascii: "\t") {
            index += 1
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// A quoted-string with backslash escapes; an unterminated one runs to the end.
    private mutating func quoted() -> String {
        index += 1
        var out: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\"), index < bytes.count {
                out.append(bytes[index])
                index += 1
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
