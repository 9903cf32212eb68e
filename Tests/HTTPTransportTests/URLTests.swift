import Testing
@testable import HTTPTransport

@Suite struct URLTests {
    static let post = "http://127.0.0.1:5000/v2/ns/app/blobs/uploads/"

    @Test(arguments: [
        ("http://127.0.0.1:5000/v2/ns/app/blobs/uploads/u1?_state=x", "http://127.0.0.1:5000/v2/ns/app/blobs/uploads/u1?_state=x"),
        ("/v2/ns/app/blobs/uploads/u1", "http://127.0.0.1:5000/v2/ns/app/blobs/uploads/u1"),
        ("u1?_state=x", "http://127.0.0.1:5000/v2/ns/app/blobs/uploads/u1?_state=x"),
        ("//other:7000/up/1", "http://other:7000/up/1"),
        ("  /v2/x  ", "http://127.0.0.1:5000/v2/x"),
        ("HTTPS://Host.example/v2/x#frag", "https://Host.example/v2/x"),
    ])
    func resolvesLocations(location: String, expected: String) {
        #expect(URLParts.resolve(location, against: Self.post) == expected)
    }

    @Test func joinsTheDigestQuery() {
        let digest = "sha256:" + String(repeating: "a", count: 64)
        #expect(URLParts.appendingQuery("http://h/v2/a/blobs/uploads/u", "digest", digest) == "http://h/v2/a/blobs/uploads/u?digest=\(digest)")
        #expect(URLParts.appendingQuery("http://h/u?_state=x", "digest", digest) == "http://h/u?_state=x&digest=\(digest)")
        #expect(URLParts.appendingQuery("http://h/u?", "digest", "d") == "http://h/u?digest=d")
    }

    @Test func partsAndOrigins() throws {
        let parts = try #require(URLParts("https://user:pw@ghcr.io/token?scope=a"))
        #expect(parts.authority == "ghcr.io")
        #expect(parts.path == "/token")
        #expect(parts.absolute == "https://ghcr.io/token?scope=a")
        #expect(URLParts("https://ghcr.io")!.sameOrigin(as: URLParts("https://GHCR.io:443/v2/")!))
        #expect(!URLParts("http://ghcr.io")!.sameOrigin(as: URLParts("https://ghcr.io/")!))
        #expect(URLParts("http://[::1]:5000/v2/")!.host == "::1")
        #expect(URLParts("ftp://x/y") == nil)
        #expect(URLParts("/relative") == nil)
    }

    @Test func percentEncodesQueryValues() {
        #expect(URLParts.encode("repository:ns/a:pull,push") == "repository%3Ans%2Fa%3Apull%2Cpush")
        #expect(URLParts.encode("v1.0_b-c~") == "v1.0_b-c~")
        #expect(URLParts.encode("sha256:ab", keeping: ":") == "sha256:ab")
    }
}
