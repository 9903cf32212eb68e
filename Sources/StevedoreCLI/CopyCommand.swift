import ArgumentParser
import HTTPTransport
import OCI
import Workflows

struct CopyCommand: StevedoreCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy one image into a registry, like skopeo copy: from another registry, an OCI layout or an archive.",
        discussion: """
            SOURCE is docker://[HOST/]NAME[:TAG|@DIGEST] (Docker Hub short names resolve as docker does), \
            oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE[:NAME:TAG]; DESTINATION is \
            docker://HOST/NAME:TAG. Blobs stream from the source to the destination without touching disk, checked \
            against their digests; a whole index is copied with its digest (--platform copies a subset, a valid \
            index with a new digest); signatures, attestations and OCI referrers come along unless --no-referrers. \
            A destination tag that already holds the source's digest is left alone after one HEAD on each side. \
            The copy is recorded in the audit log as a one-job run.
            """
    )

    @Argument(help: "The image to copy.")
    var source: String

    @Argument(help: "Where to: docker://HOST/NAME:TAG.")
    var destination: String

    @Flag(help: "Copy the whole index (the default; accepted for skopeo's users).")
    var all = false

    @Option(name: .customLong("dest-creds"), help: ArgumentHelp("Credentials for the destination (USER:PASSWORD, or USER to read the password from stdin); default: the usual lookup (environment, docker config).", valueName: "user[:password]"))
    var destinationCredentials: String?

    @Option(name: .customLong("dest-tls-verify"), help: ArgumentHelp("Verify the destination's HTTPS certificate (false: accept any; recorded).", valueName: "bool"))
    var destinationTLSVerify = true

    @OptionGroup var registry: RegistryOptions
    @OptionGroup var images: ImageOptions
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        if registry.registry != nil { throw ValidationError("copy takes the registry from DESTINATION: drop --registry") }
        if all, images.platform != nil { throw ValidationError("--all and --platform exclude each other") }
        guard destination.hasPrefix("docker://") else {
            throw ValidationError("DESTINATION must be docker://HOST/NAME:TAG (got '\(destination)')")
        }
        _ = try target()
    }

    func target() throws -> ImageReference {
        do { return try ImageReference(parsing: String(destination.dropFirst("docker://".count))) } catch {
            throw ValidationError("invalid DESTINATION: \(error.message)")
        }
    }

    mutating func execute(console: Console) async throws -> ExitStatus {
        let target = try target()
        var access: RegistryAccess
        if let destinationCredentials {
            let credentials = try SourceOptions.credentials(destinationCredentials, flag: "--dest-creds")
            access = try RegistryAccess.resolve(registry: target.apiHost, plainHTTPHosts: registry.tls.plainHTTP,
                                                trust: try trust(), username: credentials.username,
                                                stdinSecret: credentials.secret)
            access.credentialSource = "--dest-creds"
        } else {
            access = try registry.access(recorded: target.apiHost, source: destination)
            access.trust = try trust()
        }
        var options = registry.options
        images.apply(to: &options)
        let context = registry.context(registry.console), source = self.source, resolved = access
        return try await images.withCatalog(context, options) { [options] catalog in
            try await database.withLog { log in
                ExitStatus(try await Provisioner(log: log, context: context.sharing(log), catalog: catalog)
                    .copy(source: source, to: target, access: resolved, options: options))
            }
        }
    }

    private func trust() throws -> TLSTrust {
        destinationTLSVerify ? try registry.tls.trust() : .insecureSkipVerify
    }
}
