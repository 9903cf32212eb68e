import Foundation
import ImageSources
import OCI
import Yams

/// A services file: which repositories to provision, in which registry, with which tags.
///
/// ```yaml
/// registry: ghcr.io                 # host[:port]
/// namespace: agile-learning-institute
/// tags: [latest]                    # default tags for every service
/// source: https://github.com/org/repo  # the placeholder's org.opencontainers.image.source label
/// placeholder: docker://docker.io/library/hello-world:latest  # an upstream image instead of the built-in one
/// services:
///   - stage0_kafka_connect
///   - name: stage0_mongo_api
///     tags: [latest, "0.1.0"]       # per-service override
///     image: oci:build/mongo-api:1.0 # the service's image (relative to the file); default: the placeholder
///   - name: base-alpine
///     image: docker://docker.io/library/alpine:3.20  # mirrored from a registry
/// ```
public struct ServicesFile: Sendable, Equatable {
    public struct Service: Sendable, Equatable {
        public let name: String
        public let repository: RepositoryName
        public let tags: [OCI.Tag]
        /// 1-based line of the entry in the file.
        public let line: Int
        /// The service's image (`image:`); nil: the placeholder.
        public var image: ImageSourceReference? = nil
        /// The repository the package links to (`source:`, else the file's), for the placeholder's label.
        public var source: String? = nil
    }

    public let path: String
    public let registry: RegistryHost?
    public let namespace: String?
    public let services: [Service]
    /// The file-wide `source: https://github.com/OWNER/REPO`.
    public let source: String?
    /// The file-wide `placeholder:` image, for services without `image:` (nil: the built-in placeholder).
    public var placeholder: ImageSourceReference? = nil
    /// sha256 of the file's bytes, recorded with the run.
    public let sha256: Digest

    /// Reads and validates the file at `path`; every problem is collected before anything is sent.
    public static func load(path: String) throws(ServicesFileError) -> ServicesFile {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ServicesFileError(path: path, problems: [.init(line: nil, message: "cannot read the file (\(Self.reason(error)))")])
        }
        return try parse(Array(data), path: path)
    }

    /// Validates the bytes of a services file; `path` is used in messages.
    public static func parse(_ bytes: [UInt8], path: String) throws(ServicesFileError) -> ServicesFile {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ServicesFileError(path: path, problems: [.init(line: nil, message: "the file is not utf-8 text")])
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ServicesFileError(path: path, problems: [Self.problem(from: error)])
        } catch {
            throw ServicesFileError(path: path, problems: [.init(line: nil, message: "invalid yaml (\(error))")])
        }
        var parser = ServicesFileParser(path: path)
        let parsed = parser.parse(root)
        guard parser.problems.isEmpty, let parsed else {
            throw ServicesFileError(path: path, problems: parser.problems)
        }
        var file = ServicesFile(path: path, registry: parsed.registry, namespace: parsed.namespace,
                                services: parsed.services, source: parsed.source, sha256: Digest.sha256(bytes))
        file.placeholder = parsed.placeholder
        return file
    }

    private static func problem(from error: YamlError) -> ServicesFileError.Problem {
        switch error {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return .init(line: mark.line, message: "invalid yaml: \(problem)")
        default:
            return .init(line: nil, message: "invalid yaml: \(error)")
        }
    }

    private static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
           underlying.domain == NSPOSIXErrorDomain, let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue)).lowercased()
        }
        if nsError.code == NSFileReadNoSuchFileError { return "no such file" }
        return "\(nsError.localizedDescription.lowercased())"
    }
}

/// Everything wrong with a services file, each problem with its line.
public struct ServicesFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Problem: Sendable, Equatable {
        public let line: Int?
        public let message: String
    }

    public let path: String
    public let problems: [Problem]

    /// One line per problem: `FILE:LINE: message`.
    public var description: String {
        problems.map { problem in
            if let line = problem.line { return "\(path):\(line): \(problem.message)" }
            return "\(path): \(problem.message)"
        }.joined(separator: "\n")
    }
}
