import Foundation

/// A private home for the containers/image tools (skopeo, podman, buildah) run by the tests.
///
/// Run as root, these tools keep a blob-info cache in `/var/lib/containers/cache` (which changes their
/// request patterns from one run to the next, e.g. cross-repository mounts) and state under `/run`. Here
/// `HOME`, `TMPDIR`, `XDG_*`, `CONTAINERS_STORAGE_CONF` and `CONTAINERS_REGISTRIES_CONF` point into a
/// temporary directory, and `_CONTAINERS_ROOTLESS_UID` (read by containers/storage) moves the blob-info
/// cache under `$XDG_DATA_HOME`; storage paths are always passed explicitly, so nothing else changes.
public struct ContainerToolSandbox: Sendable {
    public let directory: TempDirectory

    /// Creates the directory with its `storage.conf` (vfs) and `registries.conf` (no search registries).
    public static func create(prefix: String = "container-tools") throws -> ContainerToolSandbox {
        let directory = try TempDirectory.create(prefix: prefix)
        for name in ["home", "tmp", "xdg/data", "xdg/config", "xdg/run", "storage", "runroot"] {
            try directory.makeSubdirectory(name)
        }
        try directory.write("storage.conf", """
            [storage]
            driver = "vfs"
            graphroot = "\(directory.file("storage"))"
            runroot = "\(directory.file("runroot"))"
            rootless_storage_path = "\(directory.file("storage"))"

            """)
        try directory.write("registries.conf", "unqualified-search-registries = []\n")
        return ContainerToolSandbox(directory: directory)
    }

    /// Container storage for podman/buildah (`--root`).
    public var storageRoot: String { directory.file("storage") }
    /// Container run state for podman/buildah (`--runroot`).
    public var runRoot: String { directory.file("runroot") }

    /// The whole environment of a child tool.
    public var environment: [String: String] {
        var environment = ChildProcess.inheritedEnvironment(["PATH", "LANG"])
        environment["HOME"] = directory.file("home")
        environment["TMPDIR"] = directory.file("tmp")
        environment["XDG_DATA_HOME"] = directory.file("xdg/data")
        environment["XDG_CONFIG_HOME"] = directory.file("xdg/config")
        environment["XDG_RUNTIME_DIR"] = directory.file("xdg/run")
        environment["CONTAINERS_STORAGE_CONF"] = directory.file("storage.conf")
        environment["CONTAINERS_REGISTRIES_CONF"] = directory.file("registries.conf")
        environment["_CONTAINERS_ROOTLESS_UID"] = "65534"
        return environment
    }

    /// Runs `executable` in the sandbox; throws with its stderr when it fails.
    func run(_ executable: String, _ arguments: [String], timeout: Duration, shown: [String]? = nil) async throws -> ChildResult {
        let result = try await ChildProcess.run(executable: executable, arguments: arguments, environment: environment,
                                                timeout: timeout)
        guard result.succeeded else {
            let name = URL(fileURLWithPath: executable).lastPathComponent
            throw TestSupportError("\(name) \((shown ?? arguments).joined(separator: " ")) failed with exit \(result.exitCode): "
                                   + ChildResult.tail(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines), limit: 2000))
        }
        return result
    }

    /// Removes the directory (podman's vfs storage included).
    public func remove() { directory.remove() }
}
