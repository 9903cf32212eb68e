import Foundation

/// What `podman image inspect` says about a pulled image.
public struct PodmanImage: Sendable, Equatable {
    /// The image id (the config digest's hex).
    public let id: String
    /// The digest of the reference pulled: the index's for a multi-platform image.
    public let digest: String
    /// `NAME@sha256:...` for the digests podman knows the image by (the platform manifest's among them).
    public let repoDigests: [String]
    public let architecture: String
    public let os: String
    public let labels: [String: String]

    /// The digests of `repoDigests`, without the names.
    public var digests: Set<String> {
        Set(repoDigests.compactMap { $0.split(separator: "@").last.map(String.init) })
    }
}

/// podman pulling from a loopback registry into a private storage (vfs, `--root/--runroot` in a
/// `ContainerToolSandbox`), as a second independent client. `podman run` does not work in this sandbox;
/// pulling and inspecting do.
public struct PodmanChecker: Sendable {
    public let sandbox: ContainerToolSandbox
    public let executable: String

    /// A checker with a fresh sandbox; `remove()` it when done (its storage holds the pulled layers).
    public static func make() throws -> PodmanChecker {
        let executable: String
        do {
            executable = try ChildProcess.resolve("podman")
        } catch {
            throw TestSupportError("podman is missing: install the podman package (make deps)")
        }
        return PodmanChecker(sandbox: try ContainerToolSandbox.create(prefix: "podman"), executable: executable)
    }

    public func remove() { sandbox.remove() }

    /// `podman pull --tls-verify=false REFERENCE` (HOST:PORT/NAME:TAG or @DIGEST), optionally for another
    /// architecture (`arm64`, with `variant`), then `podman image inspect` of the pulled image.
    public func pull(_ reference: String, arch: String? = nil, variant: String? = nil,
                     credentials: (String, String)? = nil) async throws -> PodmanImage {
        var arguments = ["pull", "--quiet", "--tls-verify=false"]
        if let arch { arguments += ["--arch", arch] }
        if let variant { arguments += ["--variant", variant] }
        if let (user, password) = credentials { arguments += ["--creds", "\(user):\(password)"] }
        let pulled = try await run(arguments + [reference], timeout: .seconds(300))
        guard let id = pulled.stdout.split(whereSeparator: \.isNewline).last.map(String.init), !id.isEmpty else {
            throw TestSupportError("podman pull \(reference) printed no image id")
        }
        return try await inspect(id)
    }

    /// `podman image inspect NAME_OR_ID`.
    public func inspect(_ image: String) async throws -> PodmanImage {
        let output = try await run(["image", "inspect", image], timeout: .seconds(60))
        guard let list = try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]],
              let object = list.first, let id = object["Id"] as? String else {
            throw TestSupportError("podman image inspect \(image) printed no image: \(ChildResult.tail(output.stdout, limit: 500))")
        }
        return PodmanImage(id: id, digest: object["Digest"] as? String ?? "",
                           repoDigests: object["RepoDigests"] as? [String] ?? [],
                           architecture: object["Architecture"] as? String ?? "", os: object["Os"] as? String ?? "",
                           labels: object["Labels"] as? [String: String] ?? [:])
    }

    private func run(_ arguments: [String], timeout: Duration) async throws -> ChildResult {
        let global = ["--root", sandbox.storageRoot, "--runroot", sandbox.runRoot, "--storage-driver", "vfs",
                      "--cgroup-manager", "cgroupfs", "--events-backend", "file",
                      "--tmpdir", sandbox.directory.file("tmp")]
        var shown = global + arguments
        for index in shown.indices.dropFirst() where shown[index - 1] == "--creds" { shown[index] = "***" }
        return try await sandbox.run(executable, global + arguments, timeout: timeout, shown: shown)
    }
}
