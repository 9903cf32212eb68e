import Foundation
import ImageSources
import JobRunner
import OCI

/// The images of a run: each service's artifact loaded once per distinct source and checked whole before anything
/// is sent (a registry source: its digest read with a HEAD, its content fetched when a job first needs it), and the
/// text that names it in the audit log (`jobs.source`), from which `retry` and `resume` load it again.
public struct ImageCatalog: Sendable {
    public var loader: ImageLoader
    /// Only these platforms of an index (empty: all).
    public var platforms: [Platform]
    /// Where `docker://` sources are read; nil: such a source is refused.
    public var registries: SourceRegistries?
    /// False when a recorded run being continued did not copy referrers (`--no-referrers`).
    public var referrers = true

    /// Whether jobs copy signatures, attestations and referrers with their images.
    public var copiesReferrers: Bool { referrers && (registries?.settings.copyReferrers ?? true) }

    public init(loader: ImageLoader = ImageLoader(), platforms: [Platform] = [], registries: SourceRegistries? = nil) {
        self.loader = loader
        self.platforms = platforms
        self.registries = registries
    }

    /// A service's image, and how the log names its source.
    public struct Entry: Sendable {
        public let source: String
        public let image: SourceImage

        /// The image if it was read before the run (always, but for a registry source not fetched yet).
        public var artifact: ImageArtifact? { image.loaded?.artifact }
    }

    static let placeholderPrefix = "placeholder"

    /// The artifact of every service: its `image:`, else the file's `placeholder:`, else the built-in placeholder
    /// (with the service's `source:` label). Problems name the file and the service's line.
    public func load(_ file: ServicesFile) async throws(ServicesFileError) -> [Entry] {
        var cache: [String: Entry] = [:]
        var problems: [ServicesFileError.Problem] = []
        var entries: [Entry] = []
        for service in file.services {
            let name = service.image.map(\.description) ?? file.placeholder?.description
                ?? Self.placeholderName(source: service.source)
            if let cached = cache[name] {
                entries.append(cached)
                continue
            }
            do throws(ImageSourceError) {
                let entry = try await load(source: name)
                cache[name] = entry
                entries.append(entry)
            } catch {
                problems.append(.init(line: service.line, message: "service '\(service.name)': \(error.description)"))
            }
        }
        guard problems.isEmpty else { throw ServicesFileError(path: file.path, problems: problems) }
        return entries
    }

    /// The artifact a recorded `jobs.source` names.
    public func load(source: String) async throws(ImageSourceError) -> Entry {
        if source == Self.placeholderPrefix || source.hasPrefix(Self.placeholderPrefix + ":") {
            let label = source.hasPrefix(Self.placeholderPrefix + ":") ? String(source.dropFirst(Self.placeholderPrefix.count + 1)) : nil
            return Entry(source: source, image: SourceImage(.image(PlaceholderImage.image(source: label))))
        }
        let reference = try ImageSourceReference.parse(source)
        if case .registry(let remote) = reference {
            return Entry(source: source, image: try await image(remote, source: source))
        }
        return Entry(source: source, image: SourceImage(try loader.load(reference).selecting(platforms: platforms)))
    }

    /// A registry source: its digest now, its content when needed; with a platform filter, fetched now (the
    /// filtered index has a digest of its own).
    private func image(_ reference: ImageReference, source: String) async throws(ImageSourceError) -> SourceImage {
        guard let registries else {
            throw ImageSourceError(source, "is in a registry, which this command does not read from")
        }
        do {
            let image = try await registries.image(reference)
            guard !platforms.isEmpty else { return image }
            let resolved = try await image.resolve()
            let selected = try resolved.artifact.selecting(platforms: platforms)
            // Referrers name the whole index: they do not belong to a subset of it.
            return SourceImage(selected == resolved.artifact ? resolved : ResolvedImage(artifact: selected))
        } catch let error as ImageSourceError {
            throw error
        } catch let error as WorkflowError {
            throw ImageSourceError(source, "cannot be read: \(error)")
        } catch {
            let failure = JobFailure.classify(error, now: Date())
            var problem = ImageSourceError(source, "cannot be read from its registry: \(failure.message)")
            problem.unavailable = true
            throw problem
        }
    }

    static func placeholderName(source: String?) -> String {
        source.map { "\(placeholderPrefix):\($0)" } ?? placeholderPrefix
    }

    /// Services whose real image lacks the label ghcr.io links a package with (a warning: rewriting the image
    /// would change its digest).
    public static func unlabelled(_ file: ServicesFile, _ entries: [Entry]) -> [(service: String, source: String)] {
        zip(file.services, entries).compactMap { service, entry in
            // A mirrored image is copied as it is upstream: the label is its publisher's business.
            guard service.image != nil, let artifact = entry.artifact, !Self.isRegistry(entry.source),
                  !Self.hasSourceLabel(artifact) else { return nil }
            return (service.name, entry.source)
        }
    }

    static func isRegistry(_ source: String) -> Bool { source.hasPrefix("docker://") }

    static func hasSourceLabel(_ artifact: ImageArtifact) -> Bool {
        switch artifact {
        case .image(let image): return image.labels[PlaceholderImage.sourceLabel] != nil
        case .index(let index):
            if let object = try? JSONSerialization.jsonObject(with: Data(index.manifest)) as? [String: Any],
               (object["annotations"] as? [String: String])?[PlaceholderImage.sourceLabel] != nil { return true }
            return index.entries.contains { hasSourceLabel($0.child) }
        }
    }
}
