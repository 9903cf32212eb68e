import ArgumentParser
import AuditStore
import Foundation
import OCIRegistry
import Provisioning

/// Where the audit log lives.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Audit database path (env STEVEDORE_DB; default $XDG_STATE_HOME/stevedore/audit.db).", valueName: "path"))
    var db: String?

    func open(readOnly: Bool = false) throws -> AuditStore {
        let path = db ?? AuditStore.defaultPath()
        do {
            return try AuditStore(path: path, readOnly: readOnly)
        } catch {
            throw CommandError("error: \(error)", status: .auditDatabase)
        }
    }
}

/// The registry, credentials and pacing shared by `provision` and `verify`.
struct RegistryOptions: ParsableArguments {
    @Argument(help: "The services file (YAML).")
    var file: String

    @Option(help: ArgumentHelp("Registry host[:port]; overrides the file's 'registry'.", valueName: "host"))
    var registry: String?

    @Option(name: .customLong("plain-http"), help: ArgumentHelp("Use plain HTTP for this host (loopback hosts always do).", valueName: "host"))
    var plainHTTP: [String] = []

    @Option(help: "Username for the registry; the password or token is read with --password-stdin.")
    var username: String?

    @Flag(name: .customLong("password-stdin"), help: "Read the password or token from standard input.")
    var passwordStdin = false

    @Option(help: "Jobs (repositories) pushed at the same time.")
    var concurrency = 8

    @Option(name: .customLong("max-attempts"), help: "Attempts per job before it is recorded as failed.")
    var maxAttempts = 5

    @Option(help: ArgumentHelp("Timeout of one HTTP request, in seconds.", valueName: "seconds"))
    var timeout = 60

    @Flag(help: "Print only errors and the summary.")
    var quiet = false

    func validate() throws {
        guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 256") }
        guard (1...100).contains(maxAttempts) else { throw ValidationError("--max-attempts must be between 1 and 100") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    /// Loads the services file and works out the registry, its scheme and the credentials.
    func resolve() throws -> (file: ServicesFile, access: RegistryAccess, options: ProvisionOptions) {
        let services = try ServicesFile.load(path: file)
        let host: RegistryHost
        if let registry {
            do { host = try RegistryHost(parsing: registry) } catch {
                throw CommandError("error: invalid --registry '\(registry)': \(error.message)", status: .usage)
            }
        } else if let fromFile = services.registry {
            host = fromFile
        } else {
            throw CommandError("error: \(file): no 'registry' in the file; add one or pass --registry HOST", status: .usage)
        }
        let plain = host.isLoopback || plainHTTP.contains(host.description) || plainHTTP.contains(host.host)
        let secret = passwordStdin ? try CredentialResolver.readSecretFromStandardInput() : nil
        let found = try CredentialResolver().resolve(registry: host, username: username, stdinSecret: secret)
        if plain, !host.isLoopback, let found {
            throw CommandError("error: refusing to send the credentials from \(found.source) over plain http to \(host); "
                               + "use https (drop --plain-http)", status: .usage)
        }
        var options = ProvisionOptions()
        options.concurrency = concurrency
        options.maxAttempts = maxAttempts
        options.requestTimeout = .seconds(timeout)
        return (services, RegistryAccess(registry: host, credentials: found?.credentials, plainHTTP: plain), options)
    }
}
