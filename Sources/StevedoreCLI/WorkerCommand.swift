import ArgumentParser
import AuditStore
import Credentials
import OCI
import Workflows

struct WorkerCommand: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Join the runs other processes started on a shared PostgreSQL database, and take jobs alongside them.",
        discussion: """
            Start a run as usual with --db postgres://... on one machine; on any machine, stevedore worker --db with \
            the same URL claims that run's jobs too (each claim a lease renewed by heartbeats; a runner that dies \
            loses its jobs to the others after --lease). Every runner shares one rate budget per registry, so N \
            runners together stay within --rate, and a 429 seen by one pauses all. A worker reads each run's \
            recorded options and image sources, brings its own credentials (flags, environment, docker config) and \
            its own --concurrency, and leaves when no run has a job for it, unless --follow. Maven runs stay with \
            the process that started them. Exit 0: every job it finished succeeded or was skipped; 1: one failed.
            """
    )

    @Flag(help: "Keep waiting for new runs (woken as soon as jobs are queued) instead of leaving when none needs this worker.")
    var follow = false

    @Option(name: .customLong("run"), help: ArgumentHelp("Only this run (repeatable).", valueName: "id"))
    var runs: [Int64] = []

    @Option(help: ArgumentHelp("Only runs to this registry host[:port]; --username/--password-stdin are its credentials.", valueName: "host"))
    var registry: String?

    @OptionGroup var tls: TLSOptions

    @Option(help: "Username for --registry; the password or token is read with --password-stdin.")
    var username: String?

    @Flag(name: .customLong("password-stdin"), help: "Read the password or token for --registry from standard input.")
    var passwordStdin = false

    @OptionGroup var run: RunFlags
    @OptionGroup var sources: SourceOptions
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        if passwordStdin || username != nil, registry == nil {
            throw ValidationError("--username and --password-stdin go with --registry (the host they are for)")
        }
    }

    mutating func execute(console: Console) async throws -> ExitStatus {
        guard database.isPostgres else {
            throw CommandError("stevedore worker needs a database several machines share: pass --db postgres://USER@HOST:PORT/DB "
                               + "(or set STEVEDORE_DB); a SQLite file is one machine's", status: .usage)
        }
        let only: RegistryHost?
        do { only = try registry.map { try RegistryHost(parsing: $0) } } catch {
            throw CommandError("invalid --registry '\(registry ?? "")': \(error)", status: .usage)
        }
        let secret = passwordStdin ? try CredentialResolver.readSecretFromStandardInput() : nil
        let (tls, username, trust) = (self.tls, self.username, try self.tls.trust())
        let access: @Sendable (RunRow) throws -> RegistryAccess = { run in
            guard let host = run.registry.flatMap({ try? RegistryHost(parsing: $0) }) else {
                throw CommandError("it names no registry", status: .usage)
            }
            let mine = host == only
            return try RegistryAccess.resolve(registry: host, plainHTTPHosts: tls.plainHTTP, trust: trust,
                                              username: mine ? username : nil, stdinSecret: mine ? secret : nil)
        }
        var settings = Worker.Settings()
        settings.follow = follow
        settings.runs = Set(runs)
        settings.registry = only?.description
        let options = run.options, context = run.context(console)
        let summary = try await ImageOptions.withSources(sources, context, options) { catalog in
            try await database.withLog { log in
                try await Worker(log: log, context: context.sharing(log), catalog: catalog, access: access)
                    .work(options: options, settings: settings)
            }
        }
        let runList = summary.runs.isEmpty ? "no run needed it" : "runs " + summary.runs.map(String.init).joined(separator: ", ")
        var line = "worker \(summary.runner): \(summary.finished) jobs finished (\(summary.failed) failed); \(runList)"
        if summary.refused > 0 {
            line += "; \(summary.refused) results not recorded (their leases had been taken over by other runners)"
        }
        console.output(line)
        if Task.isCancelled { return .interrupted }
        return summary.failed > 0 ? .jobsFailed : .success
    }
}
