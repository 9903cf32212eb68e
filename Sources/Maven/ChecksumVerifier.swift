import Checksums
import Foundation

/// Checks the checksum files found next to the files to publish, before anything is sent: a mismatch means
/// the file changed after Maven wrote its checksum (or the other way round), and a resolver checking
/// checksums would refuse what gets published.
///
/// Each file is read once, in chunks, for all four digests. A checksum file may hold the bare hex digest
/// (Maven's form) or `digest  name` (coreutils' form); case is ignored.
public enum ChecksumVerifier {
    /// The problems of one version's files; empty when every checksum file present matches.
    public static func verify(_ version: ArtifactVersion, chunkSize: Int = 1 << 20) -> [LayoutProblem] {
        var problems: [LayoutProblem] = []
        for file in version.files where !file.checksumFiles.isEmpty {
            problems += verify(file, chunkSize: chunkSize)
        }
        return problems
    }

    /// The problems of every version of a scan, in the scan's order.
    public static func verify(_ scan: RepositoryScan, chunkSize: Int = 1 << 20) -> [LayoutProblem] {
        scan.versions.flatMap { verify($0, chunkSize: chunkSize) }
    }

    /// The problems of one file's checksum files.
    public static func verify(_ file: ArtifactFile, chunkSize: Int = 1 << 20) -> [LayoutProblem] {
        let actual: MavenChecksums
        do {
            actual = try MavenChecksums.ofFile(atPath: file.path, chunkSize: chunkSize)
        } catch {
            return [LayoutProblem(path: file.path, message: error.description)]
        }
        return verify(file, actual: actual)
    }

    /// The problems of one file's checksum files, against digests already computed (a publish needs them anyway).
    public static func verify(_ file: ArtifactFile, actual: MavenChecksums) -> [LayoutProblem] {
        var problems: [LayoutProblem] = []
        for algorithm in file.checksumFiles.keys.sorted() {
            let checksumPath = file.checksumFiles[algorithm]!
            let claimed: String
            do {
                claimed = try expectedDigest(in: checksumPath)
            } catch {
                problems.append(LayoutProblem(path: checksumPath, message: error.description))
                continue
            }
            guard claimed.count == algorithm.hexLength, claimed.allSatisfy(\.isHexDigit) else {
                let shown = claimed.isEmpty ? "nothing" : "'\(claimed.prefix(140))'"
                problems.append(LayoutProblem(path: checksumPath, message: "holds \(shown), not a \(algorithm.rawValue) "
                    + "digest (\(algorithm.hexLength) hex digits): delete it or write the digest of \(file.name)"))
                continue
            }
            if claimed != actual[algorithm] {
                problems.append(LayoutProblem(path: checksumPath, message: "says \(claimed) but \(file.name) has "
                    + "\(algorithm.rawValue) \(actual[algorithm]): the file changed after its checksum was written; "
                    + "stage the artifact again or delete the stale checksum file"))
            }
        }
        return problems
    }

    /// The first whitespace-separated word of a checksum file, lowercased.
    static func expectedDigest(in path: String) throws(FileReadError) -> String {
        let data = try FileChunks.small(path, limit: 64 << 10)
        let text = String(decoding: data, as: UTF8.self)
        let word = text.split(whereSeparator: { $0.isWhitespace }).first.map(String.init) ?? ""
        return word.lowercased()
    }
}
