import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Debian's nginx (1.22) as a WebDAV Maven repository on a free loopback port, behaving like GitHub Packages
/// where that matters for a publisher: authenticated PUTs, release files that cannot be overwritten (409),
/// read-only users (403) and, optionally, reads that need credentials.
///
/// Everything (config, htpasswd, `repository/`, temp paths, pid, logs) is in a fresh temporary directory;
/// nginx runs as one process (`master_process off`), so killing it leaves nothing behind.
///
/// Differences from GitHub: a new file answers 201 and an overwrite 204 (GitHub: 200); metadata is stored and
/// served as uploaded. A 401, 403 or 409 to a PUT is answered before the body is read and closes the
/// connection (`keepalive_timeout 0` there): nginx would otherwise wait for a body that a client which got
/// no `100 Continue` never sends, and the next request on that connection would stall.
public final class MavenRepositoryFixture: Sendable {
    public struct Options: Sendable {
        /// Users who may read and write.
        public var writers: [String: String]
        /// Users who may read; a PUT by them answers 403 (after their password is checked).
        public var readers: [String: String]
        /// GET and HEAD without credentials (true), or credentials for everything, as GitHub wants (false).
        public var anonymousReads: Bool
        /// A PUT over an existing file answers 409, except in `*-SNAPSHOT/` directories and for
        /// `maven-metadata.xml*` (GitHub's release immutability). Off: overwrites answer 204.
        public var immutableReleases: Bool
        /// bcrypt cost of the htpasswd entries (nginx checks them on every request: 4 costs 3-10 ms).
        public var bcryptCost: Int

        public init(writers: [String: String] = ["writer": "writer-secret"], readers: [String: String] = [:],
                    anonymousReads: Bool = true, immutableReleases: Bool = true, bcryptCost: Int = 4) {
            self.writers = writers
            self.readers = readers
            self.anonymousReads = anonymousReads
            self.immutableReleases = immutableReleases
            self.bcryptCost = bcryptCost
        }
    }

    /// The Basic realm nginx announces.
    public static let realm = "stevedore-maven-fixture"
    /// `$STEVEDORE_NGINX` or Debian's `/usr/sbin/nginx`.
    public static var executable: String {
        ProcessInfo.processInfo.environment["STEVEDORE_NGINX"] ?? "/usr/sbin/nginx"
    }

    public let options: Options
    public let port: Int
    public let directory: TempDirectory
    /// How long the start took, from spawning nginx to its first answer.
    public let startDuration: Duration
    private let server: FixtureServer
    private var process: ChildProcess { server.process }

    private init(options: Options, port: Int, directory: TempDirectory, process: ChildProcess, startDuration: Duration) {
        self.options = options
        self.port = port
        self.directory = directory
        self.server = FixtureServer(process: process, directory: directory)
        self.startDuration = startDuration
    }

    /// `http://127.0.0.1:PORT`: the repository URL (the layout starts at the root).
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    /// Where nginx stores what is PUT.
    public var repositoryDirectory: String { directory.file("repository") }
    public var accessLogPath: String { directory.file("logs/access.log") }
    public var errorLogPath: String { directory.file("logs/error.log") }
    public var configPath: String { directory.file("conf/nginx.conf") }
    public var isRunning: Bool { process.isRunning }

    // MARK: Starting and stopping

    /// Starts nginx and waits for its readiness ping; a port taken between choosing and binding is retried.
    public static func start(_ options: Options = Options(), timeout: Duration = .seconds(10)) async throws -> MavenRepositoryFixture {
        let executable = Self.executable
        guard access(executable, X_OK) == 0 else {
            throw TestSupportError("\(executable) is missing: install the nginx package (make deps)")
        }
        for user in Array(options.writers.keys) + Array(options.readers.keys) {
            guard !user.isEmpty, user.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
                throw TestSupportError("fixture user name '\(user)' must be letters, digits, '.', '_' or '-'")
            }
        }
        let directory = try TempDirectory.create(prefix: "stevedore-maven-repo")
        do {
            for sub in ["conf", "logs", "repository", "temp"] { try directory.makeSubdirectory(sub) }
            try await writeHtpasswd(options.writers.merging(options.readers) { first, _ in first }, cost: options.bcryptCost,
                                    to: directory.file("conf/htpasswd"))
            let token = UUID().uuidString
            let clock = ContinuousClock()
            let deadline = clock.now + timeout
            var lastLog = ""
            for _ in 1...5 {
                let port = try LoopbackPort.free()
                try directory.write("conf/nginx.conf", NginxMavenConfig(options: options, port: port, directory: directory.path,
                                                                       readinessToken: token).render())
                try? FileManager.default.removeItem(atPath: directory.file("logs/error.log"))
                let started = clock.now
                let process = try ChildProcess.spawn(
                    executable: executable,
                    arguments: ["-p", directory.path + "/", "-c", directory.file("conf/nginx.conf"), "-e", directory.file("logs/error.log")],
                    environment: ChildProcess.inheritedEnvironment(), workingDirectory: directory.path)
                switch try await waitUntilReady(process: process, port: port, token: token, errorLog: directory.file("logs/error.log"),
                                                deadline: deadline) {
                case .ready:
                    return MavenRepositoryFixture(options: options, port: port, directory: directory, process: process,
                                                  startDuration: clock.now - started)
                case .portTaken(let log):
                    lastLog = log
                }
            }
            throw TestSupportError("nginx could not bind a free port after 5 attempts:\n\(ChildResult.tail(lastLog))")
        } catch {
            directory.remove()
            throw error
        }
    }

    /// Stops nginx (SIGTERM, then SIGKILL after 5 s) and removes its directory. Safe to call twice.
    public func stop() async { await server.stop() }

    // MARK: Observing and seeding

    /// Every request logged so far, oldest first (the readiness ping is not logged).
    public func accessLog() -> [MavenAccessLogEntry] {
        MavenAccessLogEntry.parse(ChildProcess.read(accessLogPath))
    }

    /// nginx's error log so far (password mismatches are logged here).
    public func errorLog() -> String { ChildProcess.read(errorLogPath) }

    /// The bytes stored at `path` (relative to the repository root, leading slash optional); nil when absent.
    public func storedFile(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: storedPath(path)).map { Array($0) }
    }

    /// Every stored file, relative to the repository root, sorted.
    public func storedPaths() -> [String] {
        let root = repositoryDirectory
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        var paths: [String] = []
        while let next = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(root)/\(next)", isDirectory: &isDirectory), !isDirectory.boolValue {
                paths.append(next)
            }
        }
        return paths.sorted()
    }

    /// Writes a file straight into the repository (no request), e.g. remote metadata with extra versions.
    public func seed(_ path: String, _ bytes: [UInt8]) throws {
        let target = storedPath(path)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
    }

    /// Sends one request, e.g. `send("PUT", "/g/a/1.0/a-1.0.jar", credentials: writer, body: bytes)`.
    public func send(_ method: String = "GET", _ path: String, credentials: MavenCredentials? = nil,
                     headers: [String: String] = [:], body: [UInt8]? = nil) async throws -> FixtureResponse {
        var all = headers
        if let credentials { all["Authorization"] = credentials.authorizationHeader }
        let slash = path.hasPrefix("/") ? "" : "/"
        return try await FixtureHTTP.send(method, baseURL + slash + path, headers: all, body: body)
    }

    /// The first writer's credentials (the default options have exactly one).
    public var writer: MavenCredentials {
        let name = options.writers.keys.sorted()[0]
        return MavenCredentials(username: name, password: options.writers[name]!)
    }

    private func storedPath(_ path: String) -> String {
        repositoryDirectory + (path.hasPrefix("/") ? "" : "/") + path
    }

    // MARK: Internals

    private enum Readiness {
        case ready
        case portTaken(log: String)
    }

    private static func waitUntilReady(process: ChildProcess, port: Int, token: String, errorLog: String,
                                       deadline: ContinuousClock.Instant) async throws -> Readiness {
        var lastProblem = "no answer yet"
        while true {
            if let ended = process.result() {
                let log = ChildProcess.read(errorLog)
                if log.contains("Address already in use") { return .portTaken(log: log) }
                throw TestSupportError("nginx exited with \(ended.exitCode) before it was ready:\n"
                                       + ChildResult.tail(log + ended.stderr))
            }
            do {
                let answer = try await FixtureHTTP.send("GET", "http://127.0.0.1:\(port)\(NginxMavenConfig.readinessPath)",
                                                        timeout: .seconds(1))
                // Only our nginx knows the token, so a stranger on the port cannot pass for it.
                if answer.status == 204, answer.header("X-Stevedore-Fixture") == token { return .ready }
                lastProblem = "the readiness ping answered \(answer.status)"
            } catch {
                lastProblem = "the readiness ping failed: \(error)"
            }
            if ContinuousClock.now >= deadline {
                process.terminateNow()
                throw TestSupportError("nginx on 127.0.0.1:\(port) was not ready in time (\(lastProblem)); its log:\n"
                                       + ChildResult.tail(ChildProcess.read(errorLog)))
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Writes bcrypt entries made by `htpasswd -nbB -C COST` (apache2-utils).
    static func writeHtpasswd(_ users: [String: String], cost: Int, to path: String) async throws {
        let htpasswd: String
        do {
            htpasswd = try ChildProcess.resolve("htpasswd")
        } catch {
            throw TestSupportError("htpasswd is missing: install the apache2-utils package (make deps)")
        }
        var lines = ""
        for (user, password) in users.sorted(by: { $0.key < $1.key }) {
            let result = try await ChildProcess.run(executable: htpasswd, arguments: ["-nbB", "-C", String(cost), user, password],
                                                    environment: ChildProcess.inheritedEnvironment(), timeout: .seconds(30))
            let line = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            guard result.exitCode == 0, line.hasPrefix("\(user):$2") else {
                throw TestSupportError("htpasswd -nbB \(user) failed: \(result)")
            }
            lines += line + "\n"
        }
        try Data(lines.utf8).write(to: URL(fileURLWithPath: path))
    }
}
