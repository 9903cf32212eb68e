import ArgumentParser
import Credentials
import Foundation
import HTTPTransport
import Logging
import OCI
import Timekeeping
import Workflows

extension ProgressStyle: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}

/// `--log-level` (or `STEVEDORE_LOG_LEVEL`): swift-log on stderr; `debug` logs every request (method, URL without
/// query or credentials, status, time).
struct LogOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: ArgumentHelp("Log level on stderr: trace, debug, info, notice, warning, error, critical (env STEVEDORE_LOG_LEVEL; default: warning).", valueName: "level"))
    var level: Logger.Level?

    /// The logger for this command.
    var logger: Logger {
        let environment = ProcessInfo.processInfo.environment["STEVEDORE_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
        var logger = Logger(label: "stevedore") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = level ?? environment ?? .warning
        return logger
    }
}

/// How a run goes, whatever it publishes: concurrency, attempts, rate, timeouts, progress and logging.
struct RunFlags: ParsableArguments {
    @Option(help: "Jobs (repositories or artifact versions) run at the same time.")
    var concurrency = 8

    @Option(name: .customLong("max-attempts"), help: "Attempts per job before it is recorded as failed.")
    var maxAttempts = 5

    @Option(help: ArgumentHelp("Requests per second to the server, shared by all jobs (default: 30 for ghcr.io, unlimited elsewhere; 0: unlimited).", valueName: "n"))
    var rate: Double?

    @Option(help: ArgumentHelp("Timeout of one HTTP request, in seconds.", valueName: "seconds"))
    var timeout = 60

    @Option(help: ArgumentHelp("Stop starting jobs and retries after this long (e.g. 90s, 30m, 2h, 1h30m, 2d); unfinished jobs are recorded as cancelled and can be resumed.", valueName: "duration"))
    var deadline: String?

    @Option(help: ArgumentHelp("With a postgres:// database: how long a job a runner claimed stays its own without a heartbeat (renewed every third of it); the jobs of a runner that died go to the others after this (default 30s).", valueName: "duration"))
    var lease = "30s"

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    @Option(help: ArgumentHelp("Progress on stdout: lines (one per finished job; a live status line on a terminal) or json (JSON lines: job_started, attempt_failed, rate_limited, job_finished, run_finished).", valueName: "style"))
    var progress: ProgressStyle = .lines

    @OptionGroup var log: LogOptions

    /// The console for this command's output.
    var console: Console { Console(style: quiet ? .quiet : progress) }

    func validate() throws {
        guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 256") }
        guard (1...100).contains(maxAttempts) else { throw ValidationError("--max-attempts must be between 1 and 100") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if let rate, !(rate >= 0 && rate.isFinite) { throw ValidationError("--rate must be 0 (unlimited) or positive") }
        guard let leaseTime = DurationText.positive(lease), leaseTime >= .seconds(1) else {
            throw ValidationError("--lease '\(lease)' is not a duration of at least 1s, like 30s or 2m")
        }
        if let deadline, DurationText.positive(deadline) == nil {
            throw ValidationError("--deadline '\(deadline)' is not a duration like 90s, 30m, 2h or 1h30m")
        }
    }

    var options: RunOptions {
        var options = RunOptions()
        options.concurrency = concurrency
        options.maxAttempts = maxAttempts
        options.requestTimeout = .seconds(timeout)
        options.deadline = deadline.flatMap(DurationText.positive)
        options.rate = rate
        options.lease = DurationText.positive(lease) ?? .seconds(30)
        return options
    }

    /// The workflow's surroundings: the console as progress sink, the logger, the system clock and network.
    func context(_ console: Console) -> WorkflowContext {
        WorkflowContext(logger: log.logger, progress: console)
    }
}

/// The registry, credentials and pacing shared by every command that talks to a registry.
struct RegistryOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Registry host[:port]; overrides the one in the file or the recorded run.", valueName: "host"))
    var registry: String?

    @OptionGroup var tls: TLSOptions

    @Option(help: "Username for the registry; the password or token is read with --password-stdin.")
    var username: String?

    @Flag(name: .customLong("password-stdin"), help: "Read the password or token from standard input.")
    var passwordStdin = false

    @OptionGroup var run: RunFlags

    var options: RunOptions { run.options }
    var console: Console { run.console }
    func context(_ console: Console) -> WorkflowContext { run.context(console) }

    /// Works out the registry (the flag wins over `recorded`), its scheme and the credentials.
    /// `source` names where `recorded` came from, for the error when neither is given.
    func access(recorded: RegistryHost?, source: String) throws -> RegistryAccess {
        let host: RegistryHost
        if let registry {
            do { host = try RegistryHost(parsing: registry) } catch {
                throw CommandError("invalid --registry '\(registry)': \(error.message)", status: .usage)
            }
        } else if let recorded {
            host = recorded
        } else {
            throw CommandError("\(source): no 'registry' given; add one or pass --registry HOST", status: .usage)
        }
        let secret = passwordStdin ? try CredentialResolver.readSecretFromStandardInput() : nil
        return try RegistryAccess.resolve(registry: host, plainHTTPHosts: tls.plainHTTP, trust: try tls.trust(),
                                          username: username, stdinSecret: secret)
    }

    /// Loads the services file, then resolves the access (the file's registry unless --registry).
    func resolve(file path: String) throws -> (file: ServicesFile, access: RegistryAccess) {
        let file = try ServicesFile.load(path: path)
        return (file, try access(recorded: file.registry, source: path))
    }
}

/// The scheme and certificate trust for a host: one decision for every command (`login` included).
struct TLSOptions: ParsableArguments {
    @Option(name: .customLong("plain-http"), help: ArgumentHelp("Use plain HTTP for this host (loopback hosts always do).", valueName: "host"))
    var plainHTTP: [String] = []

    @Option(name: .customLong("ca-cert"), help: ArgumentHelp("Trust only this PEM CA bundle for the registry's HTTPS certificate (a private CA); also turns HTTPS on for a loopback registry.", valueName: "file"))
    var caCert: String?

    @Flag(name: .customLong("insecure-skip-tls-verify"), help: "Accept any HTTPS certificate (recorded with the run); also turns HTTPS on for a loopback registry.")
    var insecureSkipTLSVerify = false

    /// The certificates to trust, from `--ca-cert` / `--insecure-skip-tls-verify`.
    func trust() throws(CommandError) -> TLSTrust {
        if let caCert {
            guard insecureSkipTLSVerify == false else {
                throw CommandError("--ca-cert and --insecure-skip-tls-verify exclude each other", status: .usage)
            }
            guard let text = try? String(contentsOfFile: caCert, encoding: .utf8), text.contains("-----BEGIN CERTIFICATE-----") else {
                throw CommandError("--ca-cert \(caCert) is not a readable PEM certificate file", status: .usage)
            }
            return .certificateFile(caCert)
        }
        return insecureSkipTLSVerify ? .insecureSkipVerify : .system
    }
}
