import ImageSources
import Testing

@Suite struct SourceReferenceTests {
    @Test(arguments: [
        ("oci:/b/layout", ImageSourceReference.ociLayout(directory: "/b/layout", reference: nil)),
        ("oci:/b/layout:1.0", .ociLayout(directory: "/b/layout", reference: "1.0")),
        ("oci:/b/layout@sha256:" + String(repeating: "a", count: 64),
         .ociLayout(directory: "/b/layout", reference: "sha256:" + String(repeating: "a", count: 64))),
        ("oci-archive:/b/app.tar:v2", .ociArchive(file: "/b/app.tar", reference: "v2")),
        ("docker-archive:/b/app.tar", .dockerArchive(file: "/b/app.tar", name: nil)),
        ("docker-archive:/b/app.tar:ghcr.io/org/app:1.0", .dockerArchive(file: "/b/app.tar", name: "ghcr.io/org/app:1.0")),
        ("oci:build/api:1.0", .ociLayout(directory: "/srv/release/build/api", reference: "1.0")),
        ("oci:../out/api", .ociLayout(directory: "/srv/out/api", reference: nil)),
    ])
    func parses(text: String, expected: ImageSourceReference) throws {
        #expect(try ImageSourceReference.parse(text, relativeTo: "/srv/release") == expected)
    }

    @Test func printsWhatItParses() throws {
        for text in ["oci:/b/l:1.0", "oci-archive:/b/a.tar:v2", "docker-archive:/b/a.tar:org/app:1"] {
            #expect(try ImageSourceReference.parse(text).description == text)
        }
    }

    @Test func registrySourcesResolveLikeDocker() throws {
        #expect(try ImageSourceReference.parse("docker://ghcr.io/org/app").description == "docker://ghcr.io/org/app:latest")
        #expect(try ImageSourceReference.parse("docker://alpine:3.20", relativeTo: "/b").description
            == "docker://docker.io/library/alpine:3.20")
    }

    @Test(arguments: ["docker://ghcr.io/Org/app", "docker://", "/b/layout", "oci:", "oci-archive::tag"])
    func refusesWhatIsNotASource(text: String) {
        #expect(throws: ImageSourceError.self) { try ImageSourceReference.parse(text) }
    }

    @Test(arguments: [("linux/amd64", "linux/amd64"), ("linux/arm64/v8", "linux/arm64/v8")])
    func parsesPlatforms(text: String, expected: String) {
        #expect(Platform(parsing: text)?.description == expected)
    }

    @Test func aFilterWithoutVariantMatchesEveryVariant() {
        let arm = Platform(os: "linux", architecture: "arm64", variant: "v8")
        #expect(arm.matches(Platform(parsing: "linux/arm64")!))
        #expect(!arm.matches(Platform(parsing: "linux/arm64/v7")!))
        #expect(Platform(parsing: "linux") == nil)
        #expect(Platform(parsing: "unknown/unknown")!.isUnknown)
    }
}
