import ArgumentParser
import OCI
import Workflows

struct PushCommand: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Release every service's image as :VERSION, then move :latest (or the --also-tag tags).",
        discussion: """
            Each service's `image:` (oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG]) is read and \
            checked before anything is sent, then pushed byte for byte; shared blobs are uploaded once per registry and \
            mounted everywhere else. A version tag that already holds the same image is skipped; one holding another \
            image is refused (conflict: release tags are immutable) unless --force. With --latest after-all (the \
            default) the mutable tags move only once every service's version tag is in the registry, so a \
            half-failed release never leaves latest pointing at a mix; stevedore retry completes the release.
            """
    )

    @Argument(help: "The services file (YAML).")
    var file: String

    @Option(help: ArgumentHelp("The release version: every service's image goes to this tag.", valueName: "version"))
    var version: String

    @Option(name: .customLong("also-tag"), help: ArgumentHelp("A tag that moves to the release (repeatable; replaces the default latest).", valueName: "tag"))
    var alsoTags: [String] = []

    @Option(help: ArgumentHelp("When the mutable tags move: after-all (once every version tag is pushed), each (with each service), never.", valueName: "when"))
    var latest: ReleaseSettings.MutableTagMoment = .afterAll

    @Flag(help: "Overwrite a version tag that holds another image.")
    var force = false

    @Flag(name: .customLong("dry-run"), help: "Print what would be pushed, skipped, moved or refused; write nothing.")
    var dryRun = false

    @OptionGroup var registry: RegistryOptions
    @OptionGroup var images: ImageOptions
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        for tag in [version] + alsoTags {
            guard (try? Tag(validating: tag)) != nil else {
                throw ValidationError("'\(tag)' is not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})")
            }
        }
        if alsoTags.contains(version) { throw ValidationError("--also-tag \(version) is the version itself") }
    }

    mutating func execute(console: Console) async throws -> ExitStatus {
        let (services, access) = try registry.resolve(file: file)
        var options = registry.options
        options.force = force
        images.apply(to: &options)
        let release = ReleaseSettings(version: version, mutableTags: alsoTags.isEmpty ? ["latest"] : alsoTags,
                                      moment: latest)
        let context = registry.context(registry.console), dryRun = self.dryRun
        return try await images.withCatalog(context, options) { catalog in
            if dryRun {
                return ExitStatus(try await DryRun(context: context, catalog: catalog)
                    .plan(services, release: release, access: access, options: options))
            }
            return try await database.withLog { log in
                ExitStatus(try await Provisioner(log: log, context: context.sharing(log), catalog: catalog)
                    .release(services, release, access: access, options: options))
            }
        }
    }
}

extension ReleaseSettings.MutableTagMoment: ExpressibleByArgument {}
