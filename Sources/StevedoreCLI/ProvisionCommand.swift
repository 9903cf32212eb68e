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
                ExitStatus(try await Provisioner(log: log, context: context.sharing(log), catalog: catalog)
                    .provision(services, access: access, options: options))
            }
        }
    }
}

struct VerifyCommand: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check, read-only, that every service:tag exists and whether it holds its image (the placeholder, or its image:).",
        discussion: """
            Works with read-only credentials. Exit 1 when a tag is missing or cannot be pulled. With --version, checks             that release's tag. With --pull, also pulls every manifest and config with the credentials given (with             --blobs every layer too, each checked against its digest and discarded), proving a partner's token can             pull the whole release; the result is recorded per service.
            """
    )

    @Flag(help: "Also pull every manifest and config blob of each tag.")
    var pull = false

    @Flag(help: "With --pull: also pull every layer (digest-checked, discarded).")
    var blobs = false

    func validate() throws {
        if blobs, !pull { throw ValidationError("--blobs goes with --pull") }
    }

    @Argument(help: "The services file (YAML).")
    var file: String

    @Option(help: ArgumentHelp("Check this release's version tag instead of the file's tags.", valueName: "version"))
    var version: String?

    @OptionGroup var registry: RegistryOptions
    @OptionGroup var images: ImageOptions
    @OptionGroup var database: DatabaseOptions

    mutating func execute(console: Console) async throws -> ExitStatus {
        let (services, access) = try registry.resolve(file: file)
        var options = registry.options
        options.verifyDepth = blobs ? .blobs : pull ? .manifests : .tags
        let context = registry.context(registry.console), version = self.version
        return try await images.withCatalog(context, options) { catalog in
            try await database.withLog { [options] log in
                ExitStatus(try await Provisioner(log: log, context: context.sharing(log), catalog: catalog)
                    .verify(services, version: version, access: access, options: options))
            }
        }
    }
}
