import ArgumentParser
import Credentials
import Maven
import MavenPublish
import Workflows

struct MavenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maven",
        abstract: "Publish Maven artifacts (GitHub Packages or any Maven repository) with retries and the audit log.",
        subcommands: [MavenPublishCommand.self, MavenVerifyCommand.self]
    )
}

/// What `maven publish` and `maven verify` share: the directory, the repository, credentials and filters.
struct MavenOptions: ParsableArguments {
    @Argument(help: "A Maven repository layout: what mvn deploy -DaltDeploymentRepository=staging::file:DIR wrote, or a subtree of ~/.m2/repository.")
    var directory: String

    @Option(help: ArgumentHelp("The repository URL, e.g. https://maven.pkg.github.com/OWNER/REPO.", valueName: "url"))
    var repository: String

    @Option(help: ArgumentHelp("The settings.xml <server> id to take the credentials from (default: the poms' distributionManagement repository id).", valueName: "id"))
    var id: String?

    @Option(name: [.customShort("s"), .long], help: ArgumentHelp("The settings file (default: ~/.m2/settings.xml).", valueName: "file"))
    var settings: String?

    @Option(help: "Only this groupId.")
    var group: String?

    @Option(help: "Only this artifactId.")
    var artifact: String?

    @Option(help: "Only this version.")
    var version: String?

    @Option(help: "Username for the repository; the password or token is read with --password-stdin.")
    var username: String?

    @Flag(name: .customLong("password-stdin"), help: "Read the password or token from standard input.")
    var passwordStdin = false

    @OptionGroup var tls: TLSOptions
    @OptionGroup var run: RunFlags

    /// The plan and the access, worked out before anything is sent (problems: exit 2).
    func prepare(requireCredentials: Bool) throws -> (MavenPlan, MavenPublishing.Access) {
        let filter = ArtifactFilter(groupId: group, artifactId: artifact, version: version)
        do {
            let plan = try MavenPlan.make(directory: directory, repositoryURL: repository, filter: filter)
            let secret = passwordStdin ? try CredentialResolver.readSecretFromStandardInput() : nil
            let found = try MavenCredentialLookup(settingsPath: settings, idOption: id, username: username, secret: secret)
                .resolve(plan, required: requireCredentials)
            return (plan, MavenPublishing.Access(url: repository, credentials: found, trust: try tls.trust()))
        } catch let error as MavenPublishError {
            throw CommandError(error.description, status: .usage)
        } catch let error as CredentialsError {
            throw CommandError(error.message, status: .usage)
        }
    }
}

struct MavenPublishCommand: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish every artifact version of a directory: one job each, skipping what the server has.",
        discussion: """
            Each file goes with its .md5, .sha1, .sha256 and .sha512; the artifact's maven-metadata.xml is fetched, \
            merged and put back. A file the server already has (same sha1) is skipped; a release file the server has \
            with other content is a conflict and is never overwritten (publish a new version). A rerun of a finished \
            publish sends no PUT. Credentials: --username with --password-stdin, the settings.xml <server> named by \
            --id or the poms' distributionManagement id, STEVEDORE_USERNAME/STEVEDORE_PASSWORD, GITHUB_TOKEN.
            """
    )

    @OptionGroup var maven: MavenOptions
    @OptionGroup var database: DatabaseOptions

    @Flag(name: .customLong("dry-run"), help: "Print what would be uploaded, skipped or refused; write nothing.")
    var dryRun = false

    mutating func execute(console: Console) async throws -> ExitStatus {
        let (plan, access) = try maven.prepare(requireCredentials: !dryRun)
        let context = maven.run.context(maven.run.console), options = maven.run.options
        if dryRun {
            return ExitStatus(try await MavenDryRun(context: context).plan(plan, access: access, options: options))
        }
        return try await database.withLog { log in
            ExitStatus(try await MavenPublishing(log: log, context: context.sharing(log)).run(plan, access: access, options: options,
                                                                                 verify: false))
        }
    }
}

struct MavenVerifyCommand: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check, read-only, that every file of a directory is on the server with the same checksum (exit 1 if not).",
        discussion: "A read:packages token is enough. The result is recorded per artifact version."
    )

    @OptionGroup var maven: MavenOptions
    @OptionGroup var database: DatabaseOptions

    mutating func execute(console: Console) async throws -> ExitStatus {
        let (plan, access) = try maven.prepare(requireCredentials: false)
        let context = maven.run.context(maven.run.console), options = maven.run.options
        return try await database.withLog { log in
            ExitStatus(try await MavenPublishing(log: log, context: context.sharing(log)).run(plan, access: access, options: options,
                                                                                 verify: true))
        }
    }
}
