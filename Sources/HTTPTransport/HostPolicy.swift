/// What Stevedore decides per host, in one place: the request rate it starts with, whether plain HTTP is used,
/// and whether credentials may be sent.
///
/// Credentials go only to the origin they are for, over HTTPS, or over plain HTTP to a loopback address (which
/// never leaves the machine), unless the user explicitly allowed insecure credentials.
public enum HostPolicy {
    /// ghcr.io allows 2000 requests per minute (https://docs.github.com/en/rest/overview/rate-limits-for-the-rest-api);
    /// stay below it.
    public static let ghcrRate = 30.0

    /// The rate for `host`: the one asked for (0 = unlimited), else the built-in default for known hosts, else
    /// unlimited.
    public static func rate(forHost host: String, requested: Double?) -> Double? {
        if let requested { return requested > 0 ? requested : nil }
        return host.lowercased() == "ghcr.io" ? ghcrRate : nil
    }

    /// True for `localhost`, any `127.x.y.z` and `::1`.
    public static func isLoopback(host: String) -> Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0] == "127" else { return false }
        return octets.allSatisfy { octet in
            !octet.isEmpty && octet.count <= 3 && octet.allSatisfy { $0.isASCII && $0.isNumber } && Int(octet)! <= 255
        }
    }

    /// Whether requests to `host` (`port`-less name or `host:port`) use plain HTTP: loopback hosts do unless the
    /// user configured TLS trust for them (a private CA, or skipping verification); other hosts only when listed.
    public static func usesPlainHTTP(host: String, authority: String, plainHTTPHosts: [String], trust: TLSTrust) -> Bool {
        plainHTTPHosts.contains(authority) || plainHTTPHosts.contains(host) || (isLoopback(host: host) && trust == .system)
    }

    /// Whether credentials may travel to `destination` as this request goes: HTTPS, or plain HTTP to loopback,
    /// or when explicitly allowed.
    public static func mayCarryCredentials(to destination: URLParts, allowInsecure: Bool = false) -> Bool {
        destination.scheme == "https" || allowInsecure || isLoopback(host: destination.host)
    }
}
