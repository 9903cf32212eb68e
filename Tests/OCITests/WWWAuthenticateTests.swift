import Testing
@testable import OCI
import Credentials
import HTTPTransport
import TestSupport
import Timekeeping

@Suite struct WWWAuthenticateTests {
    @Test func bearerWithQuotedCommasAndTwoScopes() {
        let header = #"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:ns/a:pull,push repository:ns/src:pull""#
        let challenges = AuthChallenge.parse(header)
        #expect(challenges.count == 1)
        let challenge = challenges[0]
        #expect(challenge.scheme == .bearer)
        #expect(challenge.parameters["realm"] == "https://auth.example/token")
        #expect(challenge.parameters["service"] == "registry.example")
        #expect(challenge.scopes == ["repository:ns/a:pull,push", "repository:ns/src:pull"])
    }

    @Test func basicRealm() {
        #expect(AuthChallenge.parse(#"Basic realm="Registry Realm""#)
            == [AuthChallenge(scheme: .basic, parameters: ["realm": "Registry Realm"])])
    }

    @Test func multipleChallengesInOneHeader() {
        let header = #"Basic realm="r1", Bearer realm="https://a/token",service="s",error="insufficient_scope""#
        let challenges = AuthChallenge.parse(header)
        #expect(challenges.map(\.scheme) == [.basic, .bearer])
        #expect(challenges[0].parameters == ["realm": "r1"])
        #expect(challenges[1].parameters == ["realm": "https://a/token", "service": "s", "error": "insufficient_scope"])
    }

    @Test func oddSpacingCaseAndUnquotedValues() {
        let header = "  bEaReR   Realm = \"https://a/t\" ,  SERVICE=reg.example ,scope=repository:x:pull   "
        let challenges = AuthChallenge.parse(header)
        #expect(challenges.count == 1)
        #expect(challenges[0].scheme == .bearer)
        #expect(challenges[0].parameters == ["realm": "https://a/t", "service": "reg.example", "scope": "repository:x:pull"])
    }

    @Test func escapesUnknownSchemesAndGarbage() {
        #expect(AuthChallenge.parse(#"Bearer realm="a\"b\\c""#).first?.parameters["realm"] == #"a"b\c"#)
        let mixed = AuthChallenge.parse(#"Negotiate, Digest realm="x", nonce="y", Basic realm="z""#)
        #expect(mixed == [AuthChallenge(scheme: .basic, parameters: ["realm": "z"])])
        #expect(AuthChallenge.parse("").isEmpty)
        #expect(AuthChallenge.parse("===,,,").isEmpty)
        #expect(AuthChallenge.parse("Bearer").first == AuthChallenge(scheme: .bearer, parameters: [:]))
        #expect(AuthChallenge.parse(#"Bearer realm="unterminated"#).first?.parameters["realm"] == "unterminated")
    }
}

@Suite struct ScopeSetTests {
    @Test func keyIsSortedAndCoversSubsets() {
        var set = ScopeSet(["repository:ns/src:pull", "repository:ns/a:push,pull"])
        #expect(set.key == "repository:ns/a:pull,push repository:ns/src:pull")
        #expect(set.covers(ScopeSet(["repository:ns/a:pull"])))
        #expect(!set.covers(ScopeSet(["repository:ns/src:push"])))
        #expect(!set.covers(ScopeSet(["repository:ns/b:pull"])))
        set.insert("registry:catalog:*")
        #expect(set.covers(ScopeSet(["registry:catalog:search"])))
        #expect(ScopeSet(["repository:localhost:5000/x:pull"]).key == "repository:localhost:5000/x:pull")
    }
}
