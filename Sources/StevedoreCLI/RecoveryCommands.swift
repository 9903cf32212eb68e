import ArgumentParser
import AuditStore
import JobRunner
import OCI
import Workflows

/// Finds a recorded run: the one given, or the latest one that fits `selector`.
func recordedRun(_ id: Int64?, in log: any RunLog, what: String, selector: RunSelector) async throws -> RunRow {
    if let id {
        guard let run = try await log.run(id) else {
            throw CommandError("no run \(id) in \(log.location); list the runs with stevedore report runs", status: .usage)
        }
        return run
    }
    guard let run = try await log.latestRun(selector) else {
        throw CommandError("no run to \(what) in \(log.location)", status: .usage)
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
    @OptionGroup var images: ImageOptions
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        let known = FailureClass.all.map(\.rawValue)
        for name in classes where !known.contains(name) {
            throw ValidationError("unknown error class '\(name)' (one of: \(known.joined(separator: ", ")))")
        }
    }

    mutating func execute(console: Console) async throws -> ExitStatus {
        let (run, classes, services, registry) = (self.run, Set(self.classes), Set(self.services), self.registry)
        var options = registry.options
        images.apply(to: &options)
        let context = registry.context(registry.console)
        return try await images.withCatalog(context, options) { [options] catalog in
            try await database.withLog { log in
                let original = try await recordedRun(run, in: log, what: "retry",
                                                     selector: RunSelector(excludingCommands: ["verify"]))
                let access = try registry.access(recorded: recordedRegistry(original), source: "run \(original.id)")
                return ExitStatus(try await Provisioner(log: log, context: context.sharing(log), catalog: catalog)
                    .retry(original, classes: classes, services: services, access: access, options: options))
            }
        }
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
    @OptionGroup var images: ImageOptions
    @OptionGroup var database: DatabaseOptions

    mutating func execute(console: Console) async throws -> ExitStatus {
        let (run, registry) = (self.run, self.registry)
        var options = registry.options
        images.apply(to: &options)
        let context = registry.context(registry.console)
        return try await images.withCatalog(context, options) { [options] catalog in try await database.withLog { log in
            let target = try await recordedRun(run, in: log, what: "resume",
                                               selector: RunSelector(statuses: [.died, .interrupted]))
            switch target.status {
            case .died, .interrupted: break
            case .running:
                throw CommandError("run \(target.id) is still running (pid \(target.pid.map(String.init) ?? "?") on \(target.host))",
                                   status: .usage)
            case .succeeded, .failed:
                throw CommandError("run \(target.id) already finished (\(target.status.rawValue)); "
                                   + "use stevedore retry \(target.id) for its failed jobs", status: .usage)
            }
            let access = try registry.access(recorded: recordedRegistry(target), source: "run \(target.id)")
            return ExitStatus(try await Provisioner(log: log, context: context.sharing(log), catalog: catalog)
                .resume(target, access: access, options: options))
        } }
    }
}
