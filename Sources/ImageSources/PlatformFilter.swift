import Foundation
import OCI

extension ImageArtifact {
    /// The index with only the entries for `platforms`, as a valid index of its own (no dangling child) with a new
    /// digest; entries without a platform, and attestations (`unknown/unknown`) that refer to a kept entry or to
    /// none, are kept. The artifact itself when it is a single image or when every entry is kept (its digest stays).
    /// An index with no entry left is an error.
    public func selecting(platforms: [Platform]) throws(ImageSourceError) -> ImageArtifact {
        guard !platforms.isEmpty, case .index(let index) = self else { return self }
        var entries: [ImageIndex.Entry] = []
        var positions: [Int] = []
        var keptImages: Set<Digest> = []
        for (position, entry) in index.entries.enumerated() {
            if case .index = entry.child {
                // A nested index keeps what it has of the platforms, or goes.
                guard let child = try? entry.child.selecting(platforms: platforms) else { continue }
                entries.append(ImageIndex.Entry(platform: entry.platform, annotations: entry.annotations, child: child))
            } else if let platform = entry.platform, !platform.isUnknown {
                guard platforms.contains(where: platform.matches) else { continue }
                entries.append(entry)
                keptImages.insert(entry.child.manifestDigest)
            } else {
                entries.append(entry)
            }
            positions.append(position)
        }
        // Attestations follow the image they describe.
        let dropped = Set(entries.indices.filter { index in
            let entry = entries[index]
            guard entry.platform.map(\.isUnknown) ?? true, case .image = entry.child,
                  let reference = entry.annotations["vnd.docker.reference.digest"].flatMap({ try? Digest(parsing: $0) })
            else { return false }
            return !keptImages.contains(reference)
        })
        entries = entries.indices.filter { !dropped.contains($0) }.map { entries[$0] }
        positions = positions.indices.filter { !dropped.contains($0) }.map { positions[$0] }
        let runnable = entries.contains { entry in
            if case .index = entry.child { return true }
            return entry.platform.map { !$0.isUnknown } ?? false
        }
        guard runnable else {
            let available = index.entries.compactMap(\.platform).filter { !$0.isUnknown }.map(\.description)
            throw ImageSourceError("index \(index.manifestDigest)", "has none of the platforms "
                + "\(platforms.map(\.description).joined(separator: ", ")) (it has: \(available.joined(separator: ", ")))")
        }
        if entries == index.entries { return self }
        return .index(try index.rewritten(with: entries, positions: positions))
    }
}

extension ImageIndex {
    /// The same index document with only `entries` (from the original `positions`, each with its child's digest and
    /// size, which changed for a filtered nested index), its other fields kept.
    func rewritten(with entries: [Entry], positions: [Int]) throws(ImageSourceError) -> ImageIndex {
        guard var object = try? JSONSerialization.jsonObject(with: Data(manifest)) as? [String: Any],
              let originals = object["manifests"] as? [[String: Any]], originals.count == self.entries.count else {
            throw ImageSourceError("index \(manifestDigest)", "cannot be rewritten")
        }
        object["manifests"] = zip(entries, positions).map { entry, position -> [String: Any] in
            var descriptor = originals[position]
            descriptor["digest"] = entry.child.manifestDigest.description
            descriptor["size"] = entry.child.manifest.count
            descriptor["mediaType"] = entry.child.manifestMediaType
            return descriptor
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { throw ImageSourceError("index \(manifestDigest)", "cannot be rewritten") }
        return ImageIndex(manifest: [UInt8](data), manifestMediaType: manifestMediaType, entries: entries)
    }
}
