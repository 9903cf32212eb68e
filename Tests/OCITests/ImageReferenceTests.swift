import Testing
@testable import OCI
import HTTPTransport

@Suite struct ImageReferenceTests {
    /// Docker's resolution of short names: Docker Hub for a first component without '.', ':' or localhost, and
    /// `library/` for a one-component name there.
    @Test(arguments: [
        ("alpine", "docker.io", "library/alpine", "latest" as String?, nil as String?, "registry-1.docker.io"),
        ("alpine:3.20", "docker.io", "library/alpine", "3.20", nil, "registry-1.docker.io"),
        ("bitnami/redis:7", "docker.io", "bitnami/redis", "7", nil, "registry-1.docker.io"),
        ("docker.io/library/hello-world:latest", "docker.io", "library/hello-world", "latest", nil, "registry-1.docker.io"),
        ("index.docker.io/nginx", "docker.io", "library/nginx", "latest", nil, "registry-1.docker.io"),
        ("ghcr.io/org/app:1.0", "ghcr.io", "org/app", "1.0", nil, "ghcr.io"),
        ("localhost/app", "localhost", "app", "latest", nil, "localhost"),
        ("127.0.0.1:5000/team/app:v2", "127.0.0.1:5000", "team/app", "v2", nil, "127.0.0.1:5000"),
        ("quay.io/a/b@sha256:" + String(repeating: "ab", count: 32), "quay.io", "a/b", nil,
         "sha256:" + String(repeating: "ab", count: 32), "quay.io"),
    ])
    func resolvesLikeDocker(_ text: String, _ registry: String, _ repository: String, _ tag: String?, _ digest: String?,
                            _ api: String) throws {
        let reference = try ImageReference(parsing: text)
        #expect(reference.registry.description == registry)
        #expect(reference.repository.value == repository)
        #expect(reference.tag?.value == tag)
        #expect(reference.digest?.description == digest)
        #expect(reference.apiHost.description == api)
    }

    @Test func dockerHubCredentialsLiveUnderTheIndexKey() throws {
        #expect(try ImageReference(parsing: "alpine").credentialKey == "https://index.docker.io/v1/")
        #expect(try ImageReference(parsing: "ghcr.io/o/a").credentialKey == "ghcr.io")
    }

    @Test(arguments: ["", "Alpine", "ghcr.io/Org/app", "app:bad tag", "app@sha256:123", "ghcr.io//app"])
    func refusesInvalidReferences(_ text: String) {
        #expect(throws: ReferenceError.self) { try ImageReference(parsing: text) }
    }

    @Test func aDigestReferenceNamesTheDigest() throws {
        let digest = "sha256:" + String(repeating: "cd", count: 32)
        let reference = try ImageReference(parsing: "ghcr.io/o/a:1.0@\(digest)")
        #expect(reference.reference == digest)
        #expect(reference.description == "ghcr.io/o/a:1.0@\(digest)")
    }
}

@Suite struct PullBudgetTests {
    @Test func readsDockerHubsHeaders() throws {
        let response = CollectedResponse(status: 200, headerFields: [
            .init("ratelimit-limit")!: "100;w=21600", .init("ratelimit-remaining")!: "76;w=21600",
        ])
        let budget = try #require(PullBudget(response))
        #expect(budget == PullBudget(limit: 100, remaining: 76, windowSeconds: 21600))
        #expect(budget.description == "76 of 100 pulls left per 21600s window")
    }

    @Test func anAnswerWithoutTheHeadersAnnouncesNoBudget() {
        #expect(PullBudget(CollectedResponse(status: 200)) == nil)
        #expect(PullBudget(CollectedResponse(status: 200, headerFields: [.init("ratelimit-remaining")!: "x"])) == nil)
    }
}
