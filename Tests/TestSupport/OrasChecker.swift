import Foundation

/// oras-py (PyPI `oras`) as a client independent of containers/image, through
/// Tests/Fixtures/oras/oras_check.py: reads manifests, pulls and checks blobs, pushes referrer artifacts.
/// Plain HTTP to loopback registries, no credentials.
public enum OrasChecker {
    /// A manifest as the registry served it.
    public struct Manifest: Sendable {
        /// sha256 of the bytes served.
        public let digest: String
        /// The `Content-Type` of the answer.
        public let mediaType: String
        /// The `subject` digest, for a referrer.
        public let subject: String?
        /// The `config.mediaType` (an artifact's type when `artifactType` is absent).
        public let configMediaType: String?
    }

    /// One blob oras-py downloaded.
    public struct Blob: Sendable, Equatable {
        public let digest: String
        public let size: Int
        /// Whether the downloaded bytes match the digest and the manifest's size.
        public let matches: Bool
    }

    /// `oras_check.py` of this checkout.
    public static let scriptPath = "\(ImageFixtures.packageRoot)/Tests/Fixtures/oras/oras_check.py"

    /// GET of a manifest (HOST:PORT/NAME:TAG or @DIGEST).
    public static func manifest(_ reference: String) async throws -> Manifest {
        let object = try await run(["manifest", reference])
        let manifest = object["manifest"] as? [String: Any] ?? [:]
        return Manifest(digest: object["digest"] as? String ?? "", mediaType: object["mediaType"] as? String ?? "",
                        subject: (manifest["subject"] as? [String: Any])?["digest"] as? String,
                        configMediaType: (manifest["config"] as? [String: Any])?["mediaType"] as? String)
    }

    /// Downloads the config and layers of an image manifest into `directory` and checks each.
    /// Returns the manifest digest and the blobs in manifest order (config first).
    public static func pull(_ reference: String, into directory: String) async throws -> (digest: String, blobs: [Blob]) {
        let object = try await run(["pull", reference, directory], timeout: .seconds(300))
        let blobs = (object["blobs"] as? [[String: Any]] ?? []).map {
            Blob(digest: $0["digest"] as? String ?? "", size: $0["size"] as? Int ?? -1, matches: $0["matches"] as? Bool ?? false)
        }
        return (object["digest"] as? String ?? "", blobs)
    }

    /// Pushes `file` as an OCI 1.1 artifact of `artifactType` whose `subject` is the manifest `subject`,
    /// tagged `reference`; returns the artifact manifest's digest.
    public static func pushReferrer(_ reference: String, file: String, fileMediaType: String, artifactType: String,
                                    subject: LayoutDescriptor) async throws -> String {
        let object = try await run(["push-referrer", reference, file, fileMediaType, artifactType, subject.digest,
                                    String(subject.size), subject.mediaType])
        guard object["status"] as? Int == 201, let digest = object["digest"] as? String, digest.hasPrefix("sha256:") else {
            throw TestSupportError("oras_check.py push-referrer \(reference) did not answer 201 with a digest: \(object)")
        }
        return digest
    }

    private static func run(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> [String: Any] {
        let python = try ChildProcess.resolve("python3")
        let result = try await ChildProcess.run(executable: python, arguments: [scriptPath] + arguments,
                                                environment: ChildProcess.inheritedEnvironment(["PATH", "HOME", "TMPDIR", "LANG"]),
                                                timeout: timeout)
        guard result.succeeded else {
            throw TestSupportError("oras_check.py \(arguments.joined(separator: " ")) failed with exit \(result.exitCode): "
                                   + result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
                                   + (result.stderr.contains("No module named 'oras'") ? " (make deps installs oras with pip)" : ""))
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw TestSupportError("oras_check.py \(arguments.first ?? "") printed no JSON object: \(result.stdout)")
        }
        return object
    }
}
