/// A full image reference as docker, skopeo and crane write it: `[HOST[:PORT]/]NAME[:TAG][@DIGEST]`.
///
/// Short names resolve the way docker resolves them: a first path component without a `.` or `:` that is not
/// `localhost` is a repository on Docker Hub (`docker.io`), and a one-component name there lives under `library/`
/// (`alpine` is `docker.io/library/alpine:latest`). Docker Hub's API is served by `registry-1.docker.io`; its
/// credentials are stored under `https://index.docker.io/v1/` (see ``credentialKey``).
///
/// Grammar: https://github.com/distribution/reference/blob/main/reference.go (the `reference` production).
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    /// The registry as the reference names it (`docker.io` for Docker Hub).
    public let registry: RegistryHost
    public let repository: RepositoryName
    public let tag: Tag?
    public let digest: Digest?

    public static let dockerHub = try! RegistryHost(parsing: "docker.io")
    static let dockerHubAPI = try! RegistryHost(parsing: "registry-1.docker.io")

    public init(registry: RegistryHost, repository: RepositoryName, tag: Tag?, digest: Digest?) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// Parses a reference; a bare name means `:latest`.
    public init(parsing text: String) throws(ReferenceError) {
        let shown = ReferenceError.clip(text)
        guard !text.isEmpty else { throw ReferenceError("image reference is empty") }
        var rest = Substring(text)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            do { digest = try Digest(parsing: String(rest[rest.index(after: at)...])) } catch {
                throw ReferenceError("image reference '\(shown)' is invalid: \(error.message)")
            }
            rest = rest[..<at]
        }
        var tag: Tag?
        if let slash = rest.lastIndex(of: "/") ?? rest.indices.first, let colon = rest[slash...].lastIndex(of: ":"),
           colon != rest.startIndex {
            do { tag = try Tag(validating: String(rest[rest.index(after: colon)...])) } catch {
                throw ReferenceError("image reference '\(shown)' is invalid: \(error.message)")
            }
            rest = rest[..<colon]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false)
        var registry = Self.dockerHub
        if components.count > 1, let first = components.first,
           first.contains(".") || first.contains(":") || first == "localhost" || first.hasPrefix("[") {
            do { registry = try RegistryHost(parsing: String(first)) } catch {
                throw ReferenceError("image reference '\(shown)' is invalid: \(error.message)")
            }
            components.removeFirst()
        }
        if registry.host == "index.docker.io" || registry.host == "registry-1.docker.io" { registry = Self.dockerHub }
        if registry == Self.dockerHub, components.count == 1 { components.insert("library", at: 0) }
        let name: RepositoryName
        do { name = try RepositoryName(validating: components.joined(separator: "/")) } catch {
            throw ReferenceError("image reference '\(shown)' is invalid: \(error.message)")
        }
        self.init(registry: registry, repository: name, tag: tag ?? (digest == nil ? try! Tag(validating: "latest") : nil),
                  digest: digest)
    }

    /// What a manifest request names: the digest when there is one, else the tag.
    public var reference: String { digest?.description ?? tag?.value ?? "latest" }

    /// The host the distribution API is served from (`registry-1.docker.io` for Docker Hub).
    public var apiHost: RegistryHost { registry == Self.dockerHub ? Self.dockerHubAPI : registry }

    /// The key docker's config file keeps this registry's credentials under.
    public var credentialKey: String { registry == Self.dockerHub ? "https://index.docker.io/v1/" : registry.description }

    public var description: String {
        "\(registry)/\(repository)" + (tag.map { ":\($0.value)" } ?? "") + (digest.map { "@\($0)" } ?? "")
    }
}
