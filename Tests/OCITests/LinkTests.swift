import Testing
@testable import OCI

@Suite struct LinkTests {
    @Test func findsTheNextLink() {
        #expect(RegistryClient.nextLink(#"</v2/a/tags/list?n=2&last=b>; rel="next""#) == "/v2/a/tags/list?n=2&last=b")
        #expect(RegistryClient.nextLink(#"<https://h/x?last=1>;rel=next"#) == "https://h/x?last=1")
        #expect(RegistryClient.nextLink(#"</prev>; rel="prev", </next>; rel="next""#) == "/next")
        #expect(RegistryClient.nextLink(#"</prev>; rel="prev""#) == nil)
        #expect(RegistryClient.nextLink("garbage") == nil)
    }
}
