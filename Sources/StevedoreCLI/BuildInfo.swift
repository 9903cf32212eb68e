import CBuildInfo
import Workflows

/// What `stevedore --version` prints: the release and the git revision it was built from.
enum BuildInfo {
    /// The revision `make` compiled in, or "unknown" for a plain `swift build`.
    static var revision: String { String(cString: stevedore_build_revision()) }

    /// `0.2.0 (git 1a2b3c4d5e6f)`.
    static var versionLine: String { "\(RunEnvironment.toolVersion) (git \(revision))" }
}
