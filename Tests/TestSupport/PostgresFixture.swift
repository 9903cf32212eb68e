import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A throw-away PostgreSQL server for one test: Debian's `initdb` and `postgres` in a temporary directory, on a
/// free 127.0.0.1 port, with scram-sha-256 password authentication for user `stevedore`. When the tests run as root
/// (which `initdb` refuses) the server runs as `nobody` through `setpriv`, in a directory that user owns.
/// `stop()` shuts it down fast (SIGINT) and removes the directory; a fixture dropped without `stop()` is killed.
public final class PostgresFixture: Sendable {
    public static let binaries = "/usr/lib/postgresql/15/bin"
    public let port: Int
    public let user = "stevedore"
    public let password: String
    let process: ChildProcess
    let directory: TempDirectory
    private let stopped = Mutex(false)
    private let databases = Mutex(0)

    /// `postgres://stevedore:PASSWORD@127.0.0.1:PORT/DATABASE?sslmode=disable`.
    public func url(_ database: String, password: String? = nil, withPassword: Bool = true) -> String {
        let secret = withPassword ? ":\(password ?? self.password)" : ""
        return "postgres://\(user)\(secret)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Whether the server's binaries are installed (`make deps` installs them).
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: "\(binaries)/postgres") }

    private init(port: Int, password: String, process: ChildProcess, directory: TempDirectory) {
        self.port = port
        self.password = password
        self.process = process
        self.directory = directory
    }

    /// The server's self-signed certificate for 127.0.0.1 (PEM), when it was started with `tls: true`.
    public var certificate: String { directory.file("server.crt") }

    /// Initializes a cluster and starts its server; retries on another port when the chosen one was taken.
    /// With `tls`, the server also accepts TLS with a self-signed certificate for 127.0.0.1 (``certificate``).
    /// `durable`: commits wait for the disk (fsync on, as a production server); tests leave it off, benchmarks not.
    public static func start(tls: Bool = false, durable: Bool = false, timeout: Duration = .seconds(30)) async throws
        -> PostgresFixture {
        let directory = try TempDirectory.create(prefix: "postgres")
        do {
            let password = "pw-" + UUID().uuidString.lowercased()
            try directory.write("pwfile", password + "\n")
            let asRoot = getuid() == 0
            if asRoot {
                chmod(directory.path, 0o755)
                try owned(byNobody: directory.path)
                try owned(byNobody: directory.file("pwfile"))
            }
            let initdb = try await ChildProcess.run(executable: asRoot ? "/usr/bin/setpriv" : "\(binaries)/initdb",
                arguments: (asRoot ? dropPrivileges + ["\(binaries)/initdb"] : []) + [
                    "-D", directory.file("data"), "-U", "stevedore", "--auth=scram-sha-256",
                    "--pwfile=\(directory.file("pwfile"))", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                environment: ChildProcess.inheritedEnvironment(["PATH"]), timeout: timeout)
            guard initdb.succeeded else { throw TestSupportError("initdb failed: \(initdb.stderr)") }
            var settings: [String] = []
            if tls {
                try await makeCertificate(in: directory, asRoot: asRoot)
                settings = ["-c", "ssl=on", "-c", "ssl_cert_file=\(directory.file("server.crt"))",
                            "-c", "ssl_key_file=\(directory.file("server.key"))"]
            }
            for _ in 0..<5 {
                let port = try LoopbackPort.free()
                let server = try ChildProcess.spawn(executable: asRoot ? "/usr/bin/setpriv" : "\(binaries)/postgres",
                    arguments: (asRoot ? dropPrivileges + ["\(binaries)/postgres"] : []) + [
                        "-D", directory.file("data"), "-c", "listen_addresses=127.0.0.1", "-c", "port=\(port)",
                        "-c", "unix_socket_directories=", "-c", "fsync=\(durable ? "on" : "off")",
                        "-c", "max_connections=60"] + settings,
                    environment: ChildProcess.inheritedEnvironment(["PATH"]))
                if try await waitUntilReady(server, port: port, timeout: timeout) {
                    return PostgresFixture(port: port, password: password, process: server, directory: directory)
                }
            }
            throw TestSupportError("postgres did not start on any of five ports")
        } catch {
            directory.remove()
            throw error
        }
    }

    /// A self-signed certificate and key for 127.0.0.1, the key readable by the server's user only.
    private static func makeCertificate(in directory: TempDirectory, asRoot: Bool) async throws {
        let openssl = try await ChildProcess.run(executable: "/usr/bin/openssl", arguments: [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", directory.file("server.key"), "-out", directory.file("server.crt")],
            environment: ChildProcess.inheritedEnvironment(["PATH"]))
        guard openssl.succeeded else { throw TestSupportError("openssl failed: \(openssl.stderr)") }
        chmod(directory.file("server.key"), 0o600)
        chmod(directory.file("server.crt"), 0o644)
        if asRoot {
            try owned(byNobody: directory.file("server.key"))
            try owned(byNobody: directory.file("server.crt"))
        }
    }

    static let dropPrivileges = ["--reuid=nobody", "--regid=nogroup", "--clear-groups"]

    private static func owned(byNobody path: String) throws {
        guard chown(path, 65534, 65534) == 0 else {
            throw TestSupportError("chown \(path) to nobody failed: \(String(cString: strerror(errno)))")
        }
    }

    /// True once `pg_isready` answers; false when the server exited (its port was taken).
    private static func waitUntilReady(_ server: ChildProcess, port: Int, timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard server.isRunning else { return false }
            let ready = try await ChildProcess.run(executable: "\(binaries)/pg_isready",
                                                   arguments: ["-q", "-h", "127.0.0.1", "-p", String(port)],
                                                   environment: ChildProcess.inheritedEnvironment(["PATH"]))
            if ready.succeeded { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        server.terminateNow()
        throw TestSupportError("postgres did not answer within \(timeout): \(server.readStderrSoFar())")
    }

    /// Runs `sql` with psql as `stevedore` on `database`; returns its unaligned, tuples-only output.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") async throws -> String {
        var environment = ChildProcess.inheritedEnvironment(["PATH"])
        environment["PGPASSWORD"] = password
        let result = try await ChildProcess.run(executable: "psql", arguments: [
            "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port), "-U", user,
            "-d", database, "-c", sql], environment: environment)
        guard result.succeeded else { throw TestSupportError("psql failed: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Creates a fresh, empty database and returns its name.
    public func createDatabase() async throws -> String {
        let name = "log" + String(databases.withLock { count in count += 1; return count })
        try await psql("CREATE DATABASE \(name)")
        return name
    }

    /// Stops the server (fast shutdown) and removes its directory. Safe to call twice.
    public func stop() async {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        process.signal(SIGINT)
        if (try? await process.wait(timeout: .seconds(10))) == nil { process.terminateNow() }
        directory.remove()
    }

    deinit {
        if !stopped.withLock({ $0 }) {
            process.terminateNow()
            directory.remove()
        }
    }
}
