import ArgumentParser
import AuditStore
import Foundation
import OCIRegistry
import Provisioning

extension ProgressStyle: ExpressibleByArgument {}

/// Where the audit log lives.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Audit database path (env STEVEDORE_DB; default $XDG_STATE_HOME/stevedore/audit.db).", valueName: "path"))
    var db: String?

    /// Opens (creating and migrating if needed) the audit database, and marks runs of this host whose
    /// process is gone as `died`.
    func open() throws -> AuditStore {
        let path = db ?? AuditStore.defaultPath()
        do {
            let store = try AuditStore(path: path)
            _ = try store.markDiedRuns(host: RunEnvironment().host) { pid in kill(pid, 0) == 0 || errno == EPERM }
            return store
        } catch {
            throw CommandError("error: \(error)", status: .auditDatabase)
        }
    }
}

extension DatabaseOptions {
    /// Opens a database that must already exist (audit verify, prune): a missing file is an error, not a new log.
    func openExisting() throws -> AuditStore {
        let path = db ?? AuditStore.defaultPath()
        guard FileManager.default.fileExists(atPath: path) else {
            throw CommandError("error: no audit database at \(path); pass --db PATH or set STEVEDORE_DB", status: .auditDatabase)
        }
        return try open()
    }

    /// Opens the audit database (`existing`: it must already be there), runs `body` with it, and turns the
    /// store's errors into exit 3. Every command that reads or maintains the log goes through here.
    func withStore<T>(existing: Bool = false, _ body: (AuditStore) throws -> T) throws -> T {
        let store = try existing ? openExisting() : open()
        do {
            return try body(store)
        } catch let error as AuditStoreError {
            throw CommandError("error: \(error)", status: .auditDatabase)
        }
    }
}

/// The registry, credentials and pacing shared by every command that talks to a registry.
struct RegistryOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Registry host[:port]; overrides the one in the file or the recorded run.", valueName: "host"))
    var registry: String?

    @Option(name: .customLong("plain-http"), help: ArgumentHelp("Use plain HTTP for this host (loopback hosts always do).", valueName: "host"))
    var plainHTTP: [String] = []

    @Option(name: .customLong("ca-cert"), help: ArgumentHelp("Trust only this PEM CA bundle for the registry's HTTPS certificate (a private CA); also turns HTTPS on for a loopback registry.", valueName: "file"))
    var caCert: String?

    @Flag(name: .customLong("insecure-skip-tls-verify"), help: "Accept any HTTPS certificate (recorded with the run); also turns HTTPS on for a loopback registry.")
    var insecureSkipTLSVerify = false

    @Option(help: "Username for the registry; the password or token is read with --password-stdin.")
    var username: String?

    @Flag(name: .customLong("password-stdin"), help: "Read the password or token from standard input.")
    var passwordStdin = false

    @Option(help: "Jobs (repositories) pushed at the same time.")
    var concurrency = 8

    @Option(name: .customLong("max-attempts"), help: "Attempts per job before it is recorded as failed.")
    var maxAttempts = 5

    @Option(help: ArgumentHelp("Requests per second to the registry, shared by all jobs (default: 30 for ghcr.io, unlimited elsewhere; 0: unlimited).", valueName: "n"))
    var rate: Double?

    @Option(help: ArgumentHelp("Timeout of one HTTP request, in seconds.", valueName: "seconds"))
    var timeout = 60

    @Option(help: ArgumentHelp("Stop starting jobs and retries after this long (e.g. 90s, 30m, 2h); unfinished jobs are recorded as cancelled and can be resumed.", valueName: "duration"))
    var deadline: String?

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    @Option(help: ArgumentHelp("Progress on stdout: lines (one per finished job; a live status line on a terminal) or json (JSON lines: job_started, attempt_failed, rate_limited, job_finished, run_finished).", valueName: "style"))
    var progress: ProgressStyle = .lines

    /// The console for this command's output.
    var console: Console { Console(style: quiet ? .quiet : progress) }

    func validate() throws {
        guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 256") }
        guard (1...100).contains(maxAttempts) else { throw ValidationError("--max-attempts must be between 1 and 100") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if let rate, !(rate >= 0 && rate.isFinite) { throw ValidationError("--rate must be 0 (unlimited) or positive") }
        if let deadline, RetryAfter.duration(deadline) == nil {
            throw ValidationError("--deadline '\(deadline)' is not a duration like 90s, 30m or 2h")
        }
    }

    /// Works out the registry (the flag wins over `recorded`), its scheme and the credentials.
    /// `source` names where `recorded` came from, for the error when neither is given.
    func access(recorded: RegistryHost?, source: String) throws -> (RegistryAccess, ProvisionOptions) {
        let host: RegistryHost
        if let registry {
            do { host = try RegistryHost(parsing: registry) } catch {
                throw CommandError("error: invalid --registry '\(registry)': \(error.message)", status: .usage)
            }
        } else if let recorded {
            host = recorded
        } else {
            throw CommandError("error: \(source): no 'registry' given; add one or pass --registry HOST", status: .usage)
        }
        let trust = try tlsTrust()
        let plain = plainHTTP.contains(host.description) || plainHTTP.contains(host.host)
            || (host.isLoopback && trust == .system)
        let secret = passwordStdin ? try CredentialResolver.readSecretFromStandardInput() : nil
        let found = try CredentialResolver().resolve(registry: host, username: username, stdinSecret: secret)
        if plain, !host.isLoopback, let found {
            throw CommandError("error: refusing to send the credentials from \(found.source) over plain http to \(host); "
                               + "use https (drop --plain-http)", status: .usage)
        }
        var options = ProvisionOptions()
        options.concurrency = concurrency
        options.maxAttempts = maxAttempts
        options.requestTimeout = .seconds(timeout)
        options.deadline = deadline.flatMap(RetryAfter.duration)
        options.rate = rate
        return (RegistryAccess(registry: host, credentials: found?.credentials, plainHTTP: plain, trust: trust), options)
    }

    /// The certificates to trust, from `--ca-cert` / `--insecure-skip-tls-verify`.
    func tlsTrust() throws(CommandError) -> TLSTrust {
        try Self.tlsTrust(caCert: caCert, insecureSkipTLSVerify: insecureSkipTLSVerify)
    }

    static func tlsTrust(caCert: String?, insecureSkipTLSVerify: Bool) throws(CommandError) -> TLSTrust {
        if let caCert {
            guard insecureSkipTLSVerify == false else {
                throw CommandError("error: --ca-cert and --insecure-skip-tls-verify exclude each other", status: .usage)
            }
            guard let text = try? String(contentsOfFile: caCert, encoding: .utf8), text.contains("-----BEGIN CERTIFICATE-----") else {
                throw CommandError("error: --ca-cert \(caCert) is not a readable PEM certificate file", status: .usage)
            }
            return .certificateFile(caCert)
        }
        return insecureSkipTLSVerify ? .insecureSkipVerify : .system
    }

    /// Loads the services file, then resolves the access (the file's registry unless --registry).
    func resolve(file path: String) throws -> (file: ServicesFile, access: RegistryAccess, options: ProvisionOptions) {
        let file = try ServicesFile.load(path: path)
        let (access, options) = try access(recorded: file.registry, source: path)
        return (file, access, options)
    }
}
