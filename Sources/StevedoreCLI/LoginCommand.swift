import ArgumentParser
import OCIRegistry
import Provisioning

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

    @Option(name: .customLong("plain-http"), help: ArgumentHelp("Use plain HTTP for this host.", valueName: "host"))
    var plainHTTP: [String] = []

    @Option(name: .customLong("ca-cert"), help: ArgumentHelp("Trust only this PEM CA bundle for the registry's HTTPS certificate; also turns HTTPS on for a loopback registry.", valueName: "file"))
    var caCert: String?

    @Flag(name: .customLong("insecure-skip-tls-verify"), help: "Accept any HTTPS certificate; also turns HTTPS on for a loopback registry.")
    var insecureSkipTLSVerify = false

    mutating func execute(console: Console) async throws -> ExitStatus {
        let host: RegistryHost
        do { host = try RegistryHost(parsing: registry) } catch {
            throw CommandError("error: invalid registry '\(registry)': \(error.message)", status: .usage)
        }
        let trust = try RegistryOptions.tlsTrust(caCert: caCert, insecureSkipTLSVerify: insecureSkipTLSVerify)
        let secret = try CredentialResolver.readSecretFromStandardInput()
        let credentials = Credentials(username: username, secret: secret)
        let plain = (host.isLoopback && trust == .system) || plainHTTP.contains(host.description) || plainHTTP.contains(host.host)
        if plain && !host.isLoopback {
            throw CommandError("error: refusing to send credentials over plain http to \(host)", status: .usage)
        }
        let access = RegistryAccess(registry: host, credentials: credentials, plainHTTP: plain, trust: trust)
        try await access.checkLogin(ProvisionOptions())
        let place = try CredentialResolver().store(credentials, for: host)
        console.line("login succeeded for \(username) at \(host); credentials stored in \(place)")
        return .success
    }
}
