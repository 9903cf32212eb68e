import ArgumentParser
import AuditStore
import OCIRegistry
import Provisioning

/// Finds a recorded run: the one given, or the latest one that `fits`.
func recordedRun(_ id: Int64?, in store: AuditStore, what: String, fits: (RunRow) -> Bool) throws -> RunRow {
    if let id {
        guard let run = try store.run(id) else {
            throw CommandError("error: no run \(id) in \(store.path); list runs with sqlite3 or stevedore report summary", status: .usage)
        }
        return run
    }
    guard let run = try store.latestRun(where: fits) else {
        throw CommandError("error: no run to \(what) in \(store.path)", status: .usage)
    }
    return run
}

/// The registry recorded with a run, for commands that continue it.
func recordedRegistry(_ run: RunRow) -> RegistryHost? {
    run.registry.flatMap { try? RegistryHost(parsing: $0) }
}

struct RetryCommand: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Re-run only the failed jobs of a run, as a new run linked to it.",
        discussion: "Jobs that succeeded or were skipped are never touched. Default: the latest provision, retry or resume run."
    )

    @Argument(help: "Run id (default: the latest run that pushed).")
    var run: Int64?

    @Option(name: .customLong("class"), help: ArgumentHelp("Only jobs that failed with this error class (repeatable).", valueName: "class"))
    var classes: [String] = []

    @Option(name: .customLong("service"), help: ArgumentHelp("Only this service (repeatable).", valueName: "name"))
    var services: [String] = []

    @OptionGroup var registry: RegistryOptions
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        let known = Set(FailureClassNames.all)
        for name in classes where !known.contains(name) {
            throw ValidationError("unknown error class '\(name)' (one of: \(FailureClassNames.all.joined(separator: ", ")))")
        }
    }

    mutating func execute(console: Console) async throws -> ExitStatus {
        let store = try database.open()
        let original = try recordedRun(run, in: store, what: "retry") { $0.command != "verify" }
        let (access, options) = try registry.access(recorded: recordedRegistry(original), source: "run \(original.id)")
        return try await Provisioner(store: store, console: registry.console, environment: RunEnvironment())
            .retry(original, classes: Set(classes), services: Set(services), access: access, options: options)
    }
}

struct ResumeCommand: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Finish a run that died or was interrupted.",
        discussion: """
            Jobs that never finished (pending, running or cancelled) are reconciled with the registry \
            (a tag that already holds the image counts as done) and completed, in the same run.
            """
    )

    @Argument(help: "Run id (default: the latest run that died or was interrupted).")
    var run: Int64?

    @OptionGroup var registry: RegistryOptions
    @OptionGroup var database: DatabaseOptions

    mutating func execute(console: Console) async throws -> ExitStatus {
        let store = try database.open()
        let target = try recordedRun(run, in: store, what: "resume") { $0.status == .died || $0.status == .interrupted }
        switch target.status {
        case .died, .interrupted: break
        case .running:
            throw CommandError("error: run \(target.id) is still running (pid \(target.pid.map(String.init) ?? "?") on \(target.host))",
                               status: .usage)
        case .succeeded, .failed:
            throw CommandError("error: run \(target.id) already finished (\(target.status.rawValue)); "
                               + "use stevedore retry \(target.id) for its failed jobs", status: .usage)
        }
        let (access, options) = try registry.access(recorded: recordedRegistry(target), source: "run \(target.id)")
        return try await Provisioner(store: store, console: registry.console, environment: RunEnvironment())
            .resume(target, access: access, options: options)
    }
}
