import Testing
@testable import OCI
import Credentials
import HTTPTransport
import TestSupport
import Timekeeping

@Suite struct RegistryHostTests {
    @Test(arguments: [
        ("ghcr.io", "ghcr.io", nil, "ghcr.io", false),
        ("127.0.0.1:5000", "127.0.0.1", 5000, "127.0.0.1:5000", true),
        ("localhost:5000", "localhost", 5000, "localhost:5000", true),
        ("LocalHost", "localhost", nil, "localhost", true),
        ("[::1]:5000", "::1", 5000, "[::1]:5000", true),
        ("[::1]", "::1", nil, "[::1]", true),
        ("127.8.9.10", "127.8.9.10", nil, "127.8.9.10", true),
        ("128.0.0.1:443", "128.0.0.1", 443, "128.0.0.1:443", false),
        ("127.0.0.1.example.com", "127.0.0.1.example.com", nil, "127.0.0.1.example.com", false),
        ("[2001:db8::1]:5000", "2001:db8::1", 5000, "[2001:db8::1]:5000", false),
        ("my-registry.internal:65535", "my-registry.internal", 65535, "my-registry.internal:65535", false),
    ] as [(String, String, Int?, String, Bool)])
    func parsesValidHosts(text: String, host: String, port: Int?, description: String, loopback: Bool) throws {
        let parsed = try RegistryHost(parsing: text)
        #expect(parsed.host == host)
        #expect(parsed.port == port)
        #expect(parsed.description == description)
        #expect(parsed.isLoopback == loopback)
    }

    @Test(arguments: [
        ("", "registry address is empty"),
        ("https://ghcr.io", "without a scheme"),
        ("http://127.0.0.1:5000", "drop 'http://'"),
        ("ghcr.io/org", "without a path"),
        ("user:pw@ghcr.io", "credentials"),
        ("::1", "in brackets"),
        ("[::1", "missing ']'"),
        ("[::1]x", "after ']'"),
        ("[zz]:5000", "not an ipv6 address"),
        ("host:", "port ''"),
        ("host:0", "from 1 to 65535"),
        ("host:70000", "from 1 to 65535"),
        ("host:abc", "from 1 to 65535"),
        ("-bad.example", "must not start or end with '-'"),
        ("a..b", "empty label"),
        ("under_score.example", "contains '_'"),
        ("sp ace", "whitespace"),
    ])
    func rejectsInvalidHosts(text: String, reason: String) {
        let error = #expect(throws: ReferenceError.self) {
            try RegistryHost(parsing: text)
        }
        #expect(error?.message.contains(reason) == true, "\(String(describing: error))")
    }
}

@Suite struct RepositoryNameTests {
    @Test(arguments: ["a", "ns/app", "a.b", "a_b", "a__b", "a-b", "a---b", "a/b/c/d", "0/9", "team/web-api.v2_x",
                      String(repeating: "a", count: 255)])
    func acceptsValidNames(text: String) throws {
        #expect(try RepositoryName(validating: text).value == text)
    }

    @Test(arguments: [
        ("", "repository name is empty"),
        ("Foo/bar", "repository name 'Foo/bar' is invalid: must be lowercase (component 'Foo')"),
        ("org/bad..dots", "component 'bad..dots' has the separator '..'"),
        ("org/trailing-", "component 'trailing-' must end with a letter or digit"),
        ("-lead", "component '-lead' must start with a letter or digit"),
        ("a___b", "separator '___'"),
        ("a.-b", "separator '.-'"),
        ("a//b", "empty path component"),
        ("/a", "empty path component"),
        ("a/", "empty path component"),
        ("a$b", "component 'a$b' contains '$'"),
        ("a:b", "contains ':'"),
        ("café", "non-ascii"),
        (String(repeating: "a", count: 256), "longer than 255 characters (256)"),
    ])
    func rejectsInvalidNames(text: String, expected: String) {
        let error = #expect(throws: ReferenceError.self) {
            try RepositoryName(validating: text)
        }
        #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
    }

    @Test func ordersByValue() throws {
        #expect(try RepositoryName(validating: "a/b") < RepositoryName(validating: "a/c"))
    }
}

@Suite struct TagTests {
    @Test(arguments: ["latest", "1.2.0", "_private", "A-b.C_d", "v1", String(repeating: "x", count: 128)])
    func acceptsValidTags(text: String) throws {
        #expect(try Tag(validating: text).value == text)
    }

    @Test(arguments: [
        ("", "tag is empty"),
        ("-nope", "tag '-nope' is invalid: must start with a letter, digit or '_'"),
        (".dot", "must start with"),
        ("a/b", "contains '/'"),
        ("a:b", "contains ':'"),
        ("a b", "contains ' '"),
        (String(repeating: "x", count: 129), "longer than 128 characters (129)"),
    ])
    func rejectsInvalidTags(text: String, expected: String) {
        let error = #expect(throws: ReferenceError.self) {
            try Tag(validating: text)
        }
        #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
    }
}
