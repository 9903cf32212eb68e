import Foundation

/// Finds the built `stevedore` executable that integration tests run.
public enum StevedoreBinary {
    /// The package root, from this file's path (`<root>/Tests/TestSupport/StevedoreBinary.swift`).
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The executable, first match wins: `$STEVEDORE_BIN`; `stevedore` beside the running test binary (same
    /// build folder and configuration); `<root>/.build/debug/stevedore`; `<root>/.build/*/debug/stevedore`.
    public static func path() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["STEVEDORE_BIN"], !explicit.isEmpty {
            guard isExecutableFile(explicit) else {
                throw TestSupportError("STEVEDORE_BIN=\(explicit) is not an executable file")
            }
            return explicit
        }
        let candidates = candidatePaths()
        if let found = candidates.first(where: isExecutableFile) { return found }
        throw TestSupportError("the stevedore executable was not found (looked at \(candidates.joined(separator: ", "))): "
                               + "run `swift build` first, or set STEVEDORE_BIN")
    }

    static func candidatePaths() -> [String] {
        var candidates: [String] = []
        if let running = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            // .../debug/StevedorePackageTests.xctest (a file on Linux) -> .../debug/stevedore
            candidates.append(URL(fileURLWithPath: running).deletingLastPathComponent().appendingPathComponent("stevedore").path)
        }
        let build = "\(packageRoot)/.build"
        candidates.append("\(build)/debug/stevedore")
        let platforms = (try? FileManager.default.contentsOfDirectory(atPath: build)) ?? []
        for platform in platforms.sorted() where platform.contains("-") && isDirectory("\(build)/\(platform)/debug") {
            candidates.append("\(build)/\(platform)/debug/stevedore")
        }
        var seen = Set<String>()
        return candidates.filter { seen.insert($0).inserted }
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    private static func isExecutableFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
            && FileManager.default.isExecutableFile(atPath: path)
    }

    /// The environment a `stevedore` child gets: PATH, HOME, TMPDIR and the locale from this process, plus `extra`.
    /// Nothing else is inherited, so credentials or `STEVEDORE_*` variables of the developer's shell cannot leak in.
    public static func environment(_ extra: [String: String]) -> [String: String] {
        ChildProcess.inheritedEnvironment().merging(extra) { _, given in given }
    }
}

/// Runs the built `stevedore` with `args` and waits for it (killed after `timeout`).
/// The child's environment is PATH, HOME, TMPDIR and the locale of this process plus `environment`.
public func runStevedore(_ args: [String], environment: [String: String], stdin: [UInt8]? = nil,
                         timeout: Duration = .seconds(120)) async throws -> ChildResult {
    let child = try spawnStevedore(args, environment: environment, stdin: stdin)
    return try await child.wait(timeout: timeout)
}

/// Starts the built `stevedore` without waiting, e.g. to signal it mid-run.
public func spawnStevedore(_ args: [String], environment: [String: String] = [:], stdin: [UInt8]? = nil,
                           workingDirectory: String? = nil) throws -> ChildProcess {
    try ChildProcess.spawn(executable: try StevedoreBinary.path(), arguments: args,
                           environment: StevedoreBinary.environment(environment), stdin: stdin,
                           workingDirectory: workingDirectory)
}
