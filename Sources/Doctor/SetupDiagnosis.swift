import Credentials
import HTTPTransport
import MavenPublish
import OCI
import Workflows

/// Everything `stevedore doctor` was asked to look at, checked in the order a run would meet it: the services file,
/// its registry and repositories, the registries its images come from, then the Maven directory and repository.
/// (The audit database is the command's own: it knows how `--db` is opened.)
public struct SetupDiagnosis: Sendable {
    /// The services file, if one was given.
    public var file: String?
    /// `--registry` as typed; it wins over the file's.
    public var registry: String?
    public var expected: RepositoryPermission.Level = .readWrite
    public var plainHTTPHosts: [String] = []
    public var trust: TLSTrust = .system
    /// `--username` and the secret read from standard input.
    public var username: String?
    public var secret: String?
    public var maven: (directory: String, repositoryURL: String, lookup: MavenCredentialLookup)?
    public var transport: any HTTPTransport

    public init(transport: any HTTPTransport) {
        self.transport = transport
    }

    public func run() async -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        var host: RegistryHost?
        if let registry {
            do { host = try RegistryHost(parsing: registry) } catch {
                checks.append(DoctorCheck("registry", registry, .fail, "not a registry host[:port]: \(error.message)",
                                          remedy: "e.g. --registry ghcr.io or --registry 127.0.0.1:5000"))
            }
        }
        var repositories: [RepositoryName] = [], sources: [ImageReference] = []
        if let file {
            do {
                let services = try ServicesFile.load(path: file)
                host = host ?? services.registry
                repositories = Array(Set(services.services.map(\.repository))).sorted { $0.value < $1.value }
                for case .registry(let reference) in services.services.compactMap(\.image) + [services.placeholder].compactMap({ $0 })
                    where !sources.contains(reference) {
                    sources.append(reference)
                }
                checks.append(DoctorCheck("services file", file, .pass,
                                          "\(services.services.count) services, names valid (lowercase, OCI grammar)"))
                if host == nil, registry == nil {
                    checks.append(DoctorCheck("registry", file, .fail, "the services file names no registry",
                                              remedy: "add registry: HOST to it, or pass --registry HOST"))
                }
            } catch {
                checks.append(DoctorCheck("services file", file, .fail, error.description))
            }
        }
        if let host {
            checks += await destination(host, repositories)
        } else if file == nil, registry == nil, maven == nil {
            checks.append(DoctorCheck("registry", "-", .info, "no registry to check: pass a services file or --registry HOST"))
        }
        let bySource = Dictionary(grouping: sources, by: \.apiHost).sorted { $0.key.description < $1.key.description }
        for (_, references) in bySource {
            checks += await source(references)
        }
        if let maven {
            checks += await MavenDiagnosis(directory: maven.directory, repositoryURL: maven.repositoryURL,
                                           lookup: maven.lookup, transport: transport).run()
        }
        return checks
    }

    /// The registry a run publishes to, with the credentials a run would pick.
    private func destination(_ host: RegistryHost, _ repositories: [RepositoryName]) async -> [DoctorCheck] {
        let access: RegistryAccess
        do {
            access = try RegistryAccess.resolve(registry: host, plainHTTPHosts: plainHTTPHosts, trust: trust,
                                                username: username, stdinSecret: secret)
        } catch {
            return [RegistryDiagnosis.credentialsFailed(host: host.description, message: error.description)]
        }
        return await RegistryDiagnosis(access: access, repositories: repositories, expected: expected,
                                       transport: transport).run()
    }

    /// One registry images are read from, with the source credentials a run would pick (never the destination's).
    private func source(_ references: [ImageReference]) async -> [DoctorCheck] {
        var settings = SourceSettings()
        settings.trust = trust
        settings.plainHTTPHosts = plainHTTPHosts
        let access: RegistryAccess
        do {
            access = try SourceRegistries.access(for: references[0], settings)
        } catch {
            return [RegistryDiagnosis.credentialsFailed(host: references[0].apiHost.description, message: error.description)]
        }
        var diagnosis = RegistryDiagnosis(access: access, repositories: [], transport: transport)
        diagnosis.sources = references
        return await diagnosis.run()
    }
}
