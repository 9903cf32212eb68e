import ArgumentParser
import ImageSources
import OCI
import Workflows

/// How images are read and uploaded: shared by provision, push, verify, retry and resume.
struct ImageOptions: ParsableArguments {
    enum Compression: String, ExpressibleByArgument, CaseIterable { case gzip, none }
    enum Mode: String, ExpressibleByArgument, CaseIterable { case stream, monolithic, chunked }

    @Option(help: ArgumentHelp("Only these platforms of a multi-platform image (e.g. linux/amd64,linux/arm64); the index pushed is a valid one of its own, with a new digest.", valueName: "os/arch[/variant],..."))
    var platform: String?

    @Option(help: ArgumentHelp("Layers of a classic docker-archive: gzip them (compress-nio, the same digests every run) or push them uncompressed.", valueName: "gzip|none"))
    var compress: Compression = .gzip

    @Option(name: .customLong("upload-mode"), help: ArgumentHelp("How blob bytes travel: stream (one PATCH, then PUT; what docker does), monolithic (one PUT), chunked (PATCHes of --chunk-size with Content-Range). Blobs up to 1 MiB always go in one PUT.", valueName: "mode"))
    var uploadMode: Mode = .stream

    @Option(name: .customLong("chunk-size"), help: ArgumentHelp("Chunk size for --upload-mode chunked (ghcr.io refuses chunks over 4MiB).", valueName: "size"))
    var chunkSize: String = "4MiB"

    @OptionGroup var sources: SourceOptions

    func validate() throws {
        guard Self.bytes(chunkSize).map({ $0 > 0 }) == true else {
            throw ValidationError("--chunk-size '\(chunkSize)' is not a size like 4MiB, 5MB or 1048576")
        }
        _ = try platforms()
    }

    func platforms() throws -> [Platform] {
        guard let platform else { return [] }
        return try platform.split(separator: ",").map { text in
            guard let parsed = Platform(parsing: String(text)) else {
                throw ValidationError("--platform '\(text)' is not os/arch[/variant], e.g. linux/arm64/v8")
            }
            return parsed
        }
    }

    /// Runs `body` with the catalog of this command's images; the source registries' connections, opened only
    /// for `docker://` sources, are closed however it ends.
    func withCatalog<T: Sendable>(_ context: WorkflowContext, _ options: RunOptions,
                                  _ body: (ImageCatalog) async throws -> T) async throws -> T {
        try await Self.withSources(sources, context, options, loader: ImageLoader(compress: compress == .gzip),
                                   platforms: (try? platforms()) ?? [], body)
    }

    /// ``withCatalog(_:_:_:)`` for a command without image flags of its own (`stevedore worker`: each run it joins
    /// applies its recorded platform filter).
    static func withSources<T: Sendable>(_ sources: SourceOptions, _ context: WorkflowContext, _ options: RunOptions,
                                         loader: ImageLoader = ImageLoader(), platforms: [Platform] = [],
                                         _ body: (ImageCatalog) async throws -> T) async throws -> T {
        let registries = SourceRegistries(settings: try sources.settings(), context: context, options: options)
        let catalog = ImageCatalog(loader: loader, platforms: platforms, registries: registries)
        do {
            let result = try await body(catalog)
            await registries.shutdown()
            return result
        } catch {
            await registries.shutdown()
            throw error
        }
    }

    func apply(to options: inout RunOptions) {
        switch uploadMode {
        case .stream: options.uploadMode = .streamed
        case .monolithic: options.uploadMode = .monolithic
        case .chunked: options.uploadMode = .chunked(Self.bytes(chunkSize) ?? 4 << 20)
        }
    }

    /// `4MiB`, `512KiB`, `5MB`, `1048576`.
    static func bytes(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("GB", 1_000_000_000),
                                        ("MB", 1_000_000), ("KB", 1000), ("B", 1)]
        for (unit, scale) in units where text.hasSuffix(unit) {
            return Double(text.dropLast(unit.count)).map { Int64($0 * Double(scale)) }
        }
        return Int64(text)
    }
}
