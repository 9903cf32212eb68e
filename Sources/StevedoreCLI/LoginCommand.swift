import ArgumentParser
import Credentials
import OCI
import Workflows

struct LoginCommand: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Check credentials against a registry and store them in docker's config file.",
        discussion: """
            The password or token is read from standard input. Stored like docker login does: in the \
            credential helper the docker config names for the registry, else base64 in 'auths' of \
            $DOCKER_CONFIG/config.json (or ~/.docker/config.json), mode 0600. docker and skopeo read the same file.
            """
    )

    @Argument(help: "Registry host[:port].")
    var registry: String

    @Option(help: "Username.")
    var username: String

    @Flag(name: .customLong("password-stdin"), help: "Read the password or token from standard input (the only way).")
    var passwordStdin = false

    @OptionGroup var tls: TLSOptions
    @OptionGroup var log: LogOptions

    mutating func execute(console: Console) async throws -> ExitStatus {
        let host: RegistryHost
        do { host = try RegistryHost(parsing: registry) } catch {
            throw CommandError("invalid registry '\(registry)': \(error.message)", status: .usage)
        }
        let secret = try CredentialResolver.readSecretFromStandardInput()
        let access = try RegistryAccess.resolve(registry: host, plainHTTPHosts: tls.plainHTTP, trust: try tls.trust(),
                                                username: username, stdinSecret: secret)
        try await WorkflowContext(logger: log.logger).checkLogin(access)
        let place = try CredentialResolver().store(Credentials(username: username, secret: secret), for: host.description)
        console.line("login succeeded for \(username) at \(host); credentials stored in \(place)")
        return .success
    }
}
