import ArgumentParser
import Workflows

struct ProvisionCommand: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "provision",
        abstract: "Create each service's repository with the placeholder image on all its tags.",
        discussion: """
            A tag that already holds the placeholder is skipped; a tag that holds another image is left \
            untouched unless --force. Every job and attempt is recorded in the audit database.
            """
    )

    @Argument(help: "The services file (YAML).")
    var file: String

    @OptionGroup var registry: RegistryOptions
    @OptionGroup var images: ImageOptions
    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Overwrite tags that hold another image.")
    var force = false

    @Flag(name: .customLong("dry-run"), help: "Print what would be pushed, skipped or kept; write nothing.")
    var dryRun = false

    mutating func execute(console: Console) async throws -> ExitStatus {
        let (services, access) = try registry.resolve(file: file)
        var options = registry.options
        options.force = force
        images.apply(to: &options)
        let context = registry.context(registry.console), dryRun = self.dryRun
        return try await images.withCatalog(context, options) { catalog in
            if dryRun {
                return ExitStatus(try await DryRun(context: context, catalog: catalog)
                    .plan(services, access: access, options: options))
            }
            return try await database.withLog { log in
                ExitStatus(try await Provisioner(log: log, context: context, catalog: catalog)
                    .provision(services, access: access, options: options))
            }
        }
    }
}

struct VerifyCommand: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check, read-only, that every service:tag exists and whether it holds its image (the placeholder, or its image:).",
        discussion: "Works with read-only credentials. Exit 1 when a tag is missing. With --version, checks that release's tag."
    )

    @Argument(help: "The services file (YAML).")
    var file: String

    @Option(help: ArgumentHelp("Check this release's version tag instead of the file's tags.", valueName: "version"))
    var version: String?

    @OptionGroup var registry: RegistryOptions
    @OptionGroup var images: ImageOptions
    @OptionGroup var database: DatabaseOptions

    mutating func execute(console: Console) async throws -> ExitStatus {
        let (services, access) = try registry.resolve(file: file)
        let context = registry.context(registry.console), options = registry.options, version = self.version
        return try await images.withCatalog(context, options) { catalog in
            try await database.withLog { log in
                ExitStatus(try await Provisioner(log: log, context: context, catalog: catalog)
                    .verify(services, version: version, access: access, options: options))
            }
        }
    }
}
