import Foundation

/// What `skopeo inspect` says about an image in a registry.
public struct SkopeoImage: Sendable, Equatable {
    /// The manifest digest (`sha256:...`).
    public let digest: String
    /// The layer digests, in order.
    public let layers: [String]
    /// The image config's labels (empty when it has none).
    public let labels: [String: String]
    /// The manifest exactly as the registry serves it (`skopeo inspect --raw`).
    public let rawManifest: [UInt8]

    public init(digest: String, layers: [String], labels: [String: String], rawManifest: [UInt8]) {
        self.digest = digest
        self.layers = layers
        self.labels = labels
        self.rawManifest = rawManifest
    }

    /// The manifest's `mediaType` field, if it has one.
    public var manifestMediaType: String? {
        let object = try? JSONSerialization.jsonObject(with: Data(rawManifest)) as? [String: Any]
        return object?["mediaType"] as? String
    }
}

/// The independent client the tests check the registry with: Debian's `skopeo` (1.9).
///
/// TLS verification is off (`--tls-verify=false`), which also lets skopeo fall back to plain HTTP, as the
/// fixtures serve it. Its requests carry a `skopeo/...` user agent in the registry's access log.
public enum Skopeo {
    /// `$STEVEDORE_SKOPEO` or `skopeo` on PATH.
    public static func executable() throws -> String {
        if let explicit = ProcessInfo.processInfo.environment["STEVEDORE_SKOPEO"] { return explicit }
        do {
            return try ChildProcess.resolve("skopeo")
        } catch {
            throw TestSupportError("skopeo is missing: install the skopeo package (make deps)")
        }
    }

    /// Inspects `reference` (`127.0.0.1:PORT/ns/name:tag`, `docker://` optional): the digest and layers from
    /// `skopeo inspect`, the manifest from `skopeo inspect --raw`.
    public static func inspect(reference: String, credentials: (String, String)? = nil) async throws -> SkopeoImage {
        let output = try await run(["inspect", "--tls-verify=false"] + credentialArguments("--creds", credentials)
                                   + [dockerReference(reference)])
        let decoded: Inspection
        do {
            decoded = try JSONDecoder().decode(Inspection.self, from: Data(output))
        } catch {
            throw TestSupportError("cannot decode skopeo inspect \(reference): \(error)\n\(String(decoding: output, as: UTF8.self))")
        }
        let raw = try await inspectRaw(reference: reference, credentials: credentials)
        return SkopeoImage(digest: decoded.Digest, layers: decoded.Layers ?? [], labels: decoded.Labels ?? [:],
                           rawManifest: raw)
    }

    /// The manifest bytes as the registry serves them (`skopeo inspect --raw`).
    public static func inspectRaw(reference: String, credentials: (String, String)? = nil) async throws -> [UInt8] {
        try await run(["inspect", "--raw", "--tls-verify=false"] + credentialArguments("--creds", credentials)
                      + [dockerReference(reference)])
    }

    /// Copies an image, e.g. from `docker://127.0.0.1:PORT/ns/name:tag` to `oci:DIR:tag` or `dir:DIR`, which proves
    /// it can be pulled completely (every blob is fetched and checked against its digest).
    public static func copy(from source: String, to destination: String, sourceCredentials: (String, String)? = nil,
                            destinationCredentials: (String, String)? = nil) async throws {
        _ = try await run(["copy", "--insecure-policy", "--src-tls-verify=false", "--dest-tls-verify=false"]
                          + credentialArguments("--src-creds", sourceCredentials)
                          + credentialArguments("--dest-creds", destinationCredentials)
                          + [source, destination], timeout: .seconds(300))
    }

    // MARK: Internals

    /// The fields of `skopeo inspect` that the tests use.
    private struct Inspection: Decodable {
        let Digest: String
        let Layers: [String]?
        let Labels: [String: String]?
    }

    private static func dockerReference(_ reference: String) -> String {
        reference.hasPrefix("docker://") ? reference : "docker://\(reference)"
    }

    private static func credentialArguments(_ flag: String, _ credentials: (String, String)?) -> [String] {
        guard let (user, password) = credentials else { return [] }
        return [flag, "\(user):\(password)"]
    }

    /// Runs skopeo and returns its stdout; throws with its stderr when it fails.
    private static func run(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> [UInt8] {
        let result = try await ChildProcess.run(executable: try executable(), arguments: arguments,
                                                environment: ChildProcess.inheritedEnvironment(), timeout: timeout)
        guard result.exitCode == 0 else {
            var shown = arguments
            for index in shown.indices.dropFirst() where shown[index - 1].hasSuffix("-creds") { shown[index] = "***" }
            throw TestSupportError("skopeo \(shown.joined(separator: " ")) failed with exit \(result.exitCode): "
                                   + result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return Array(result.stdout.utf8)
    }
}
