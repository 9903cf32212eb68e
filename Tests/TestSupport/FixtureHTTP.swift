import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// An answer from `FixtureHTTP.send`.
public struct FixtureResponse: Sendable {
    public let status: Int
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]

    /// The first value of a header, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// A plain HTTP(S) client for talking to fixtures directly: redirects are not followed and certificates
/// are not verified (fixtures use self-signed ones). One shared client, never shut down.
public enum FixtureHTTP {
    /// Identifies requests made by the fixtures in a registry's access log.
    public static let userAgent = "stevedore-test-fixture"

    private static let client = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: HTTPClient.Configuration(certificateVerification: .none, redirectConfiguration: .disallow))

    /// Sends one request to `url` and collects the answer (up to 16 MiB).
    public static func send(_ method: String = "GET", _ url: String, headers: [String: String] = [:],
                            body: [UInt8]? = nil, timeout: Duration = .seconds(10)) async throws -> FixtureResponse {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "User-Agent", value: userAgent)
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { request.headers.replaceOrAdd(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let seconds = timeout.components.seconds
        let milliseconds = seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        let response = try await client.execute(request, timeout: .milliseconds(max(1, milliseconds)))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return FixtureResponse(status: Int(response.status.code),
                               headers: response.headers.map { (name: $0.name, value: $0.value) },
                               body: Array(buffer: bytes))
    }
}
