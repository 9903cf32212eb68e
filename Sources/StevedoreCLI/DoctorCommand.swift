import ArgumentParser
import Credentials
import Doctor
import Foundation
import HTTPTransport
import MavenPublish

struct DoctorCommand: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the set-up before a run: credentials, registry, token, push access, clock, Maven settings, the audit database.",
        discussion: """
            One line per check, with the remedy when it fails. Nothing is pushed or published: push access is read \
            from the token's granted scopes, or from a manifest PUT no registry can accept (an empty manifest under a \
            digest it does not match). Secrets are never printed. Exit 0 when every check passes (warnings \
            included), 1 when one fails.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }
    enum Expectation: String, ExpressibleByArgument, CaseIterable {
        case readWrite = "read-write", readOnly = "read-only"
    }

    @Argument(help: "A services file: its registry and every service's repository are checked.")
    var file: String?

    @Option(help: ArgumentHelp("Registry host[:port]; overrides the file's.", valueName: "host"))
    var registry: String?

    @Option(help: ArgumentHelp("What the registry credentials should allow: read-write (publishing) or read-only (a partner's pull token).", valueName: "access"))
    var expect: Expectation = .readWrite

    @Option(help: "Username for the registry; the password or token is read with --password-stdin.")
    var username: String?

    @Flag(name: .customLong("password-stdin"), help: "Read the registry password or token from standard input.")
    var passwordStdin = false

    @Option(help: ArgumentHelp("A Maven repository layout to publish (what mvn deploy wrote to a staging directory).", valueName: "dir"))
    var maven: String?

    @Option(help: ArgumentHelp("The Maven repository URL, e.g. https://maven.pkg.github.com/OWNER/REPO (with --maven).", valueName: "url"))
    var repository: String?

    @Option(help: ArgumentHelp("The settings.xml <server> id to use (default: the poms' distributionManagement repository id).", valueName: "id"))
    var id: String?

    @Option(name: [.customShort("s"), .long], help: ArgumentHelp("The Maven settings file (default: ~/.m2/settings.xml).", valueName: "file"))
    var settings: String?

    @Option(help: ArgumentHelp("Timeout of one HTTP request, in seconds.", valueName: "seconds"))
    var timeout = 15

    @Option(help: "Output: text (one line per check) or json.")
    var format: Format = .text

    @OptionGroup var tls: TLSOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var log: LogOptions

    func validate() throws {
        if maven != nil, repository == nil { throw ValidationError("--maven DIR needs --repository URL") }
        if repository != nil, maven == nil { throw ValidationError("--repository needs --maven DIR") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    mutating func execute(console: Console) async throws -> ExitStatus {
        let secret = passwordStdin ? try CredentialResolver.readSecretFromStandardInput() : nil
        let trust = try tls.trust()
        let network = AsyncHTTPClientTransport(timeout: .seconds(timeout), maxConnectionsPerHost: 8, trust: trust)
        let transport = LoggingTransport(base: network, logger: log.logger)
        var diagnosis = SetupDiagnosis(transport: transport)
        diagnosis.file = file
        diagnosis.registry = registry
        diagnosis.expected = expect == .readOnly ? .readOnly : .readWrite
        diagnosis.plainHTTPHosts = tls.plainHTTP
        diagnosis.trust = trust
        (diagnosis.username, diagnosis.secret) = (username, secret)
        if let maven, let repository {
            diagnosis.maven = (maven, repository, MavenCredentialLookup(settingsPath: settings, idOption: id))
        }
        var checks = await diagnosis.run()
        checks.append(await DoctorDatabaseCheck(database: database).run())
        try? await network.shutdown()
        console.output(format == .json ? DoctorReport.json(checks) : DoctorReport.text(checks))
        return checks.allPass ? .success : .jobsFailed
    }
}
