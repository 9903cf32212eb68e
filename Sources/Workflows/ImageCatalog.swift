import Foundation
import ImageSources
import OCI

/// The images of a run: each service's artifact loaded once per distinct source and checked whole before anything
/// is sent, and the text that names it in the audit log (`jobs.source`), from which `retry` and `resume` load it
/// again.
public struct ImageCatalog: Sendable {
    public var loader: ImageLoader
    /// Only these platforms of an index (empty: all).
    public var platforms: [Platform]

    public init(loader: ImageLoader = ImageLoader(), platforms: [Platform] = []) {
        self.loader = loader
        self.platforms = platforms
    }

    /// A service's artifact, and how the log names its source.
    public struct Entry: Sendable {
        public let source: String
        public let artifact: ImageArtifact
    }

    static let placeholderPrefix = "placeholder"

    /// The artifact of every service: its `image:`, or the placeholder (with the service's `source:` label).
    /// Problems name the file and the service's line.
    public func load(_ file: ServicesFile) throws(ServicesFileError) -> [Entry] {
        var cache: [String: Entry] = [:]
        var problems: [ServicesFileError.Problem] = []
        var entries: [Entry] = []
        for service in file.services {
            let name = service.image.map(\.description) ?? Self.placeholderName(source: service.source)
            if let cached = cache[name] {
                entries.append(cached)
                continue
            }
            do throws(ImageSourceError) {
                let entry = try load(source: name)
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
    public func load(source: String) throws(ImageSourceError) -> Entry {
        if source == Self.placeholderPrefix || source.hasPrefix(Self.placeholderPrefix + ":") {
            let label = source.hasPrefix(Self.placeholderPrefix + ":") ? String(source.dropFirst(Self.placeholderPrefix.count + 1)) : nil
            return Entry(source: source, artifact: .image(PlaceholderImage.image(source: label)))
        }
        let reference = try ImageSourceReference.parse(source)
        return Entry(source: source, artifact: try loader.load(reference).selecting(platforms: platforms))
    }

    static func placeholderName(source: String?) -> String {
        source.map { "\(placeholderPrefix):\($0)" } ?? placeholderPrefix
    }

    /// Services whose real image lacks the label ghcr.io links a package with (a warning: rewriting the image
    /// would change its digest).
    public static func unlabelled(_ file: ServicesFile, _ entries: [Entry]) -> [(service: String, source: String)] {
        zip(file.services, entries).compactMap { service, entry in
            guard service.image != nil, !Self.hasSourceLabel(entry.artifact) else { return nil }
            return (service.name, entry.source)
        }
    }

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
