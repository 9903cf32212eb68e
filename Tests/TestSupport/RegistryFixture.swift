import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A real `docker-registry serve` (Debian's distribution 2.8.2) on a free loopback port, with its storage,
/// config and logs in a fresh temporary directory.
///
/// The access log (one line per request, on the registry's stdout) is kept in a file that `accessLog()`
/// parses, so a test can count the requests a command sent. The fixture's own readiness ping
/// (`GET /v2/`, user agent `FixtureHTTP.userAgent`) appears in it too.
///
/// Always `await stop()`; if a test throws first, releasing the fixture kills the registry (the temporary
/// directory then stays behind under `$TMPDIR`).
public final class RegistryFixture: Sendable {
    public enum Mode: Sendable {
        /// No authentication: anyone may pull and push.
        case anonymous
        /// HTTP Basic against an htpasswd file (bcrypt) holding these users and passwords.
        case htpasswd(users: [String: String])
        /// Bearer tokens from an external token server (configuration only: start the server yourself).
        case token(realm: String, service: String, issuer: String, rootCertBundle: String)
    }

    /// A certificate and key (PEM files) to serve HTTPS with.
    public struct TLSFiles: Sendable {
        public var certificate: String
        public var key: String

        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    /// The executable; `$STEVEDORE_DOCKER_REGISTRY` overrides it.
    public static var executable: String {
        ProcessInfo.processInfo.environment["STEVEDORE_DOCKER_REGISTRY"] ?? "/usr/bin/docker-registry"
    }

    /// The `http.secret` of every fixture (fixed, so upload state survives a restart on the same storage).
    public static let httpSecret = "stevedore-test-fixture-http-secret"

    public let mode: Mode
    public let tls: TLSFiles?
    public let port: Int
    /// Holds `config.yml`, `storage/`, `access.log`, `registry.log` and, in htpasswd mode, `htpasswd`.
    public let directory: TempDirectory
    private let server: FixtureServer
    private var process: ChildProcess { server.process }

    private init(mode: Mode, tls: TLSFiles?, port: Int, directory: TempDirectory, process: ChildProcess) {
        self.mode = mode
        self.tls = tls
        self.port = port
        self.directory = directory
        self.server = FixtureServer(process: process, directory: directory)
    }

    /// `127.0.0.1:PORT`, as a registry is named in an image reference or with `--registry`.
    public var address: String { "127.0.0.1:\(port)" }
    public var scheme: String { tls == nil ? "http" : "https" }
    /// `http://127.0.0.1:PORT` (or https).
    public var baseURL: String { "\(scheme)://\(address)" }
    public var storageDirectory: String { directory.file("storage") }
    public var configPath: String { directory.file("config.yml") }
    public var accessLogPath: String { directory.file("access.log") }
    /// The registry's own log (stderr): startup, errors, one "response completed" line per request.
    public var logPath: String { directory.file("registry.log") }
    /// The process id of the registry.
    public var pid: pid_t { process.pid }

    // MARK: Starting and stopping

    /// Starts a registry and waits until `GET /v2/` answers (200, or 401 when authentication is on).
    /// Fails after `timeout` with the registry's log. A port taken between choosing and binding is retried.
    public static func start(_ mode: Mode, tls: TLSFiles? = nil, timeout: Duration = .seconds(10)) async throws -> RegistryFixture {
        let executable = Self.executable
        guard access(executable, X_OK) == 0 else {
            throw TestSupportError("\(executable) is missing: install the docker-registry package (make deps)")
        }
        let directory = try TempDirectory.create(prefix: "stevedore-registry")
        do {
            try directory.makeSubdirectory("storage")
            if case .htpasswd(let users) = mode {
                try await writeHtpasswd(users: users, to: directory.file("htpasswd"))
            }
            let deadline = ContinuousClock.now + timeout
            var lastLog = ""
            for _ in 1...5 {
                let port = try LoopbackPort.free()
                try directory.write("config.yml", configuration(mode: mode, tls: tls, port: port, directory: directory))
                let process = try ChildProcess.spawn(
                    executable: executable, arguments: ["serve", directory.file("config.yml")],
                    environment: ChildProcess.inheritedEnvironment(), workingDirectory: directory.path,
                    stdoutPath: directory.file("access.log"), stderrPath: directory.file("registry.log"))
                let fixture = RegistryFixture(mode: mode, tls: tls, port: port, directory: directory, process: process)
                switch try await fixture.waitUntilReady(deadline: deadline, timeout: timeout) {
                case .ready:
                    return fixture
                case .portTaken(let log):
                    lastLog = log
                    fixture.server.forget()  // the process is gone; keep the directory for the retry
                }
            }
            throw TestSupportError("docker-registry could not bind a free port after 5 attempts:\n\(ChildResult.tail(lastLog))")
        } catch {
            directory.remove()
            throw error
        }
    }

    /// Stops the registry (SIGTERM, then SIGKILL after 5 s) and removes its directory. Safe to call twice.
    public func stop() async { await server.stop() }

    // MARK: Observing

    /// Every request the registry has logged so far, oldest first.
    ///
    /// The registry writes a line once the handler has finished; for small answers that is before the
    /// client has read them, but a large blob download may be logged just after the client saw it.
    public func accessLog() -> [AccessLogEntry] {
        AccessLogEntry.parse(ChildProcess.read(accessLogPath))
    }

    /// The registry's own log (stderr) so far.
    public func registryLog() -> String {
        ChildProcess.read(logPath)
    }

    /// Whether the registry process is still running.
    public var isRunning: Bool { process.isRunning }

    /// Sends one request to the registry, e.g. `send("GET", "/v2/")`; no credentials are added.
    public func send(_ method: String = "GET", _ path: String, headers: [String: String] = [:],
                     body: [UInt8]? = nil) async throws -> FixtureResponse {
        try await FixtureHTTP.send(method, baseURL + path, headers: headers, body: body)
    }

    // MARK: Internals

    private enum Readiness {
        case ready
        case portTaken(log: String)
    }

    private func waitUntilReady(deadline: ContinuousClock.Instant, timeout: Duration) async throws -> Readiness {
        let listening = "listening on \(address)"
        var lastProblem = "no answer yet"
        while true {
            if let ended = process.result() {
                let log = registryLog()
                if log.contains("address already in use") { return .portTaken(log: log) }
                throw TestSupportError("docker-registry exited with \(ended.exitCode) before it was ready:\n"
                                       + ChildResult.tail(log + ended.stdout))
            }
            // Only our own process logs this line, so the answer below cannot come from a stranger on the port.
            if registryLog().contains(listening) {
                do {
                    let answer = try await send("GET", "/v2/")
                    if answer.status == 200 || answer.status == 401 { return .ready }
                    lastProblem = "GET /v2/ answered \(answer.status)"
                } catch {
                    lastProblem = "GET /v2/ failed: \(error)"
                }
            }
            if ContinuousClock.now >= deadline {
                process.terminateNow()
                throw TestSupportError("docker-registry on \(address) was not ready within \(timeout) (\(lastProblem)); its log:\n"
                                       + ChildResult.tail(registryLog()))
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The registry's configuration: loopback only, storage in the fixture's directory, access log on.
    static func configuration(mode: Mode, tls: TLSFiles?, port: Int, directory: TempDirectory) -> String {
        var yaml = """
            version: 0.1
            log:
              level: info
              formatter: text
              accesslog:
                disabled: false
            storage:
              filesystem:
                rootdirectory: \(quoted(directory.file("storage")))
              delete:
                enabled: true
              maintenance:
                uploadpurging:
                  enabled: false
            http:
              addr: \(quoted("127.0.0.1:\(port)"))
              secret: \(quoted(httpSecret))

            """
        if let tls {
            yaml += """
                  tls:
                    certificate: \(quoted(tls.certificate))
                    key: \(quoted(tls.key))

                """
        }
        switch mode {
        case .anonymous:
            break
        case .htpasswd:
            yaml += """
                auth:
                  htpasswd:
                    realm: "stevedore-test"
                    path: \(quoted(directory.file("htpasswd")))

                """
        case .token(let realm, let service, let issuer, let rootCertBundle):
            yaml += """
                auth:
                  token:
                    realm: \(quoted(realm))
                    service: \(quoted(service))
                    issuer: \(quoted(issuer))
                    rootcertbundle: \(quoted(rootCertBundle))

                """
        }
        return yaml
    }

    /// A YAML double-quoted scalar.
    static func quoted(_ text: String) -> String {
        var escaped = ""
        for character in text.unicodeScalars {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return "\"\(escaped)\""
    }

    /// Writes an htpasswd file with bcrypt hashes (the only kind the registry accepts), made by `htpasswd -Bbn`.
    static func writeHtpasswd(users: [String: String], to path: String) async throws {
        let htpasswd: String
        do {
            htpasswd = try ChildProcess.resolve("htpasswd")
        } catch {
            throw TestSupportError("htpasswd is missing: install the apache2-utils package (make deps)")
        }
        var lines = ""
        for (user, password) in users.sorted(by: { $0.key < $1.key }) {
            let result = try await ChildProcess.run(executable: htpasswd, arguments: ["-Bbn", user, password],
                                                    environment: ChildProcess.inheritedEnvironment(), timeout: .seconds(30))
            let line = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            guard result.exitCode == 0, line.hasPrefix("\(user):$2") else {
                throw TestSupportError("htpasswd -Bbn \(user) failed: \(result)")
            }
            lines += line + "\n"
        }
        try Data(lines.utf8).write(to: URL(fileURLWithPath: path))
    }
}
