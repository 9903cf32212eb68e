import HTTPTransport

/// The address of a registry: `host[:port]`, IPv6 literals in brackets.
///
/// This is the "registry" part of an image reference; requests go to `<scheme>://<description>/v2/...`
/// (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints).
/// Hostnames are compared case-insensitively, so `host` is kept lowercase.
public struct RegistryHost: Hashable, Sendable, CustomStringConvertible {
    /// Hostname or IP literal, lowercase, IPv6 without brackets.
    public let host: String
    /// The explicit port, if one was written.
    public let port: Int?

    /// Parses `ghcr.io`, `127.0.0.1:5000`, `localhost:5000`, `[::1]:5000`.
    /// Rejects schemes (`https://…`), paths, credentials and unbracketed IPv6.
    public init(parsing text: String) throws(ReferenceError) {
        let shown = ReferenceError.clip(text)
        func invalid(_ why: String) -> ReferenceError {
            ReferenceError("registry '\(shown)' is invalid: \(why)")
        }
        if text.isEmpty { throw ReferenceError("registry address is empty") }
        if let scheme = text.range(of: "://") {
            throw invalid("give host[:port] without a scheme (drop '\(text[..<scheme.upperBound])')")
        }
        if text.contains("/") { throw invalid("give host[:port] without a path") }
        if text.contains("@") { throw invalid("credentials do not belong in the address") }
        if text.contains(where: { $0 == " " || $0 == "\t" || $0.isNewline }) { throw invalid("contains whitespace") }

        let hostPart: Substring
        let portPart: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw invalid("missing ']' after the ipv6 address") }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if rest.isEmpty {
                portPart = nil
            } else if rest.first == ":" {
                portPart = rest.dropFirst()
            } else {
                throw invalid("unexpected text after ']'")
            }
            guard Self.isIPv6Literal(hostPart) else { throw invalid("'\(hostPart)' is not an ipv6 address") }
        } else {
            let colons = text.reduce(0) { $0 + ($1 == ":" ? 1 : 0) }
            if colons > 1 { throw invalid("ipv6 addresses must be written in brackets, e.g. [::1]:5000") }
            if let colon = text.firstIndex(of: ":") {
                hostPart = text[..<colon]
                portPart = text[text.index(after: colon)...]
            } else {
                hostPart = text[...]
                portPart = nil
            }
            if let why = Self.hostnameProblem(hostPart) { throw invalid(why) }
        }

        var port: Int?
        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let value = Int(portPart), (1...65535).contains(value) else {
                throw invalid("port '\(ReferenceError.clip(portPart))' must be a number from 1 to 65535")
            }
            port = value
        }
        self.host = hostPart.lowercased()
        self.port = port
    }

    /// True for `localhost`, any `127.x.y.z` and `::1`: plain HTTP to these never leaves the machine.
    public var isLoopback: Bool { HostPolicy.isLoopback(host: host) }

    /// `host[:port]`, with brackets around IPv6 literals.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        guard let port else { return shownHost }
        return "\(shownHost):\(port)"
    }

    /// `https://host[:port]` or `http://host[:port]`.
    public func baseURL(plainHTTP: Bool) -> String {
        (plainHTTP ? "http://" : "https://") + description
    }

    /// Hostname labels `[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?` joined by dots (IPv4 fits this too).
    private static func hostnameProblem(_ host: Substring) -> String? {
        if host.isEmpty { return "the host is empty" }
        if host.utf8.count > 253 { return "the host is longer than 253 characters" }
        for label in host.split(separator: ".", omittingEmptySubsequences: false) {
            if label.isEmpty { return "the host has an empty label (check the dots)" }
            if label.utf8.count > 63 { return "the host label '\(ReferenceError.clip(label))' is longer than 63 characters" }
            for byte in label.utf8 where !(isAlphanumeric(byte) || byte == UInt8(ascii: "-")) {
                return "the host contains '\(Character(Unicode.Scalar(byte)))' (allowed: letters, digits, '-', '.')"
            }
            if label.utf8.first == UInt8(ascii: "-") || label.utf8.last == UInt8(ascii: "-") {
                return "the host label '\(label)' must not start or end with '-'"
            }
        }
        return nil
    }

    private static func isIPv6Literal(_ text: Substring) -> Bool {
        guard text.contains(":"), text.utf8.count <= 45 else { return false }
        return text.utf8.allSatisfy { isHex($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
    }
}
