import Foundation

/// skopeo as an independent checker of real images, in its own `ContainerToolSandbox` (no shared
/// blob-info cache, so every copy sends the same requests). Registries are spoken to with
/// `--tls-verify=false`, which also allows plain HTTP.
///
/// Transports in `source`/`destination`: `docker://HOST:PORT/NAME:TAG`, `oci:DIR:TAG`,
/// `oci-archive:FILE`, `docker-archive:FILE`, `dir:DIR` (see `containers-transports(5)`).
public struct SkopeoChecker: Sendable {
    public let sandbox: ContainerToolSandbox
    public let executable: String

    /// A checker with a fresh sandbox; `remove()` it when done.
    public static func make() throws -> SkopeoChecker {
        SkopeoChecker(sandbox: try ContainerToolSandbox.create(prefix: "skopeo"), executable: try Skopeo.executable())
    }

    public func remove() { sandbox.remove() }

    /// `skopeo inspect` of a registry image (digest, layers, labels) plus the manifest as served.
    /// For an index, `digest` is the index's and the rest describes the linux/amd64 image.
    public func inspect(_ reference: String, credentials: (String, String)? = nil) async throws -> SkopeoImage {
        let output = try await run(["inspect", "--tls-verify=false"] + creds("--creds", credentials) + [docker(reference)])
        guard let object = try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any],
              let digest = object["Digest"] as? String else {
            throw TestSupportError("skopeo inspect \(reference) printed no digest: \(ChildResult.tail(output.stdout, limit: 500))")
        }
        return SkopeoImage(digest: digest, layers: object["Layers"] as? [String] ?? [],
                           labels: object["Labels"] as? [String: String] ?? [:],
                           rawManifest: try await inspectRaw(reference, credentials: credentials))
    }

    /// The manifest bytes as the registry serves them (`skopeo inspect --raw`).
    public func inspectRaw(_ reference: String, credentials: (String, String)? = nil) async throws -> [UInt8] {
        let output = try await run(["inspect", "--raw", "--tls-verify=false"] + creds("--creds", credentials) + [docker(reference)])
        return Array(output.stdout.utf8)
    }

    /// `skopeo copy SOURCE DESTINATION`; `all` copies every image of an index, `preserveDigests` refuses
    /// any change that would alter a digest (no recompression, no manifest conversion).
    public func copy(from source: String, to destination: String, all: Bool = false, preserveDigests: Bool = false,
                     sourceCredentials: (String, String)? = nil, destinationCredentials: (String, String)? = nil,
                     timeout: Duration = .seconds(600)) async throws {
        var arguments = ["copy", "--quiet", "--insecure-policy", "--src-tls-verify=false", "--dest-tls-verify=false"]
        if all { arguments.append("--all") }
        if preserveDigests { arguments.append("--preserve-digests") }
        arguments += creds("--src-creds", sourceCredentials) + creds("--dest-creds", destinationCredentials)
        _ = try await run(arguments + [source, destination], timeout: timeout)
    }

    /// Seeds a registry: copies an OCI layout's tag (by default every image of an index) to `reference`.
    public func push(layout: String, tag: String, to reference: String, all: Bool = true,
                     credentials: (String, String)? = nil) async throws {
        try await copy(from: "oci:\(layout):\(tag)", to: docker(reference), all: all, destinationCredentials: credentials)
    }

    /// Copies a registry image into a new OCI layout `directory` (tag `tag`) and returns what
    /// `OCILayoutFacts.verify` finds wrong with it (empty: every blob is there and matches its digest).
    public func pull(_ reference: String, intoLayout directory: String, tag: String = "pulled", all: Bool = true,
                     credentials: (String, String)? = nil) async throws -> [String] {
        try await copy(from: docker(reference), to: "oci:\(directory):\(tag)", all: all, preserveDigests: true,
                       sourceCredentials: credentials)
        return try OCILayoutFacts.verify(directory)
    }

    // MARK: Internals

    private func docker(_ reference: String) -> String {
        reference.contains("://") ? reference : "docker://\(reference)"
    }

    private func creds(_ flag: String, _ credentials: (String, String)?) -> [String] {
        guard let (user, password) = credentials else { return [] }
        return [flag, "\(user):\(password)"]
    }

    private func run(_ arguments: [String], timeout: Duration = .seconds(120)) async throws -> ChildResult {
        var shown = arguments
        for index in shown.indices.dropFirst() where shown[index - 1].hasSuffix("creds") { shown[index] = "***" }
        return try await sandbox.run(executable, arguments, timeout: timeout, shown: shown)
    }
}
