import Testing
@testable import OCI
import Credentials
import HTTPTransport
import TestSupport
import Timekeeping

@Suite struct ErrorBodyTests {
    @Test func decodesOCIErrors() {
        let body = #"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}},{"code":"denied"}]}"#
        let details = ErrorBody.details(from: Array(body.utf8))
        #expect(details == [RegistryErrorDetail(code: "MANIFEST_UNKNOWN", message: "manifest unknown"),
                            RegistryErrorDetail(code: "DENIED", message: nil)])
    }

    @Test(arguments: ["", "   ", "<html><body>502 Bad Gateway</body></html>", "{not json", #"{"message":"x"}"#,
                      #"{"errors":null}"#, #"{"errors":[{"message":"no code"}]}"#, "404 page not found\n"])
    func toleratesOtherBodies(body: String) {
        #expect(ErrorBody.details(from: Array(body.utf8)).isEmpty)
    }

    @Test func errorDescriptionsAreOneLine() {
        let http = RegistryError.http(operation: "PUT manifest ns/app:latest", status: 429,
                                      details: [RegistryErrorDetail(code: "TOOMANYREQUESTS", message: "slow\ndown")],
                                      retryAfter: "10")
        #expect(http.description == "PUT manifest ns/app:latest: registry answered 429 TOOMANYREQUESTS: slow down (retry after 10)")
        #expect(http.status == 429)
        #expect(http.errorCode == "TOOMANYREQUESTS")
        #expect(http.retryAfter == "10")
        let bare = RegistryError.http(operation: "GET /v2/", status: 502, details: [], retryAfter: nil)
        #expect(bare.description == "GET /v2/: registry answered 502")
        #expect(bare.errorCode == nil)
        let transport = RegistryError.transport(operation: "HEAD blob a sha256:0…", TransportError(kind: .reset, message: "connection to x was reset"))
        #expect(transport.description == "HEAD blob a sha256:0…: connection to x was reset")
        #expect(transport.status == nil)
        let auth = RegistryError.authentication(operation: "GET token", status: 401, message: "registry r rejected the credentials for bob")
        #expect(auth.description == "GET token: registry r rejected the credentials for bob (http 401)")
        #expect(auth.status == 401)
        for error in [http, bare, transport, auth] { #expect(!error.description.contains("\n")) }
    }
}
