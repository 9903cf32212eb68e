import Foundation
import TestSupport

/// What signing tools attach to an image, put into a source registry with oras-py (an independent client): a
/// cosign-style signature under `sha256-<hex>.sig`, and an OCI 1.1 referrer (an SBOM whose `subject` is the image)
/// listed under the `sha256-<hex>` tag schema, as clients write it for a registry without the referrers API.
enum Attachments {
    static let referrerTag = "sbom-artifact"

    static func attach(to repository: String, subject digest: String, size: Int, mediaType: String,
                       in registry: RegistryFixture, workspace: Workspace) async throws {
        let subject = LayoutDescriptor(mediaType: mediaType, digest: digest, size: size, annotations: [:], platform: nil)
        let hex = digest.dropFirst("sha256:".count)
        let signature = try workspace.write("signature.json", #"{"critical":{"image":{"docker-manifest-digest":"\#(digest)"}}}"#)
        _ = try await OrasChecker.pushReferrer("\(registry.address)/\(repository):sha256-\(hex).sig", file: signature,
                                               fileMediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
                                               artifactType: "application/vnd.dev.cosign.artifact.sig.v1+json",
                                               subject: subject)
        let sbom = try workspace.write("sbom.spdx.json", #"{"spdxVersion":"SPDX-2.3","name":"fixture"}"#)
        let referrer = try await OrasChecker.pushReferrer("\(registry.address)/\(repository):\(referrerTag)", file: sbom,
                                                          fileMediaType: "application/spdx+json",
                                                          artifactType: "application/spdx+json", subject: subject)
        let manifest = try await registry.send("GET", "/v2/\(repository)/manifests/\(referrer)",
                                               headers: ["Accept": "application/vnd.oci.image.manifest.v1+json"])
        let index = #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":["#
            + #"{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\#(referrer)","size":\#(manifest.body.count),"#
            + #""artifactType":"application/spdx+json"}]}"#
        let put = try await registry.send("PUT", "/v2/\(repository)/manifests/sha256-\(hex)",
                                          headers: ["Content-Type": "application/vnd.oci.image.index.v1+json"],
                                          body: Array(index.utf8))
        guard put.status == 201 else { throw TestSupportError("PUT of the referrers index answered \(put.status)") }
    }

    /// The referrer's digest in the source.
    static func referrerDigest(_ registry: RegistryFixture) async throws -> String {
        let response = try await registry.send("HEAD", "/v2/mirror/app/manifests/\(referrerTag)",
                                               headers: ["Accept": "application/vnd.oci.image.manifest.v1+json"])
        guard let digest = response.header("Docker-Content-Digest") else { throw TestSupportError("no referrer digest") }
        return digest
    }
}
