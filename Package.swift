// swift-tools-version:6.0
import PackageDescription

/// The git revision `stevedore --version` prints: `make` exports it (hex digits, maybe `-dirty`); anything else is
/// ignored and the binary says "unknown".
let revision = Context.environment["STEVEDORE_REVISION"].flatMap { value in
    value.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." } && !value.isEmpty ? value : nil
}

let package = Package(
    name: "Stevedore",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stevedore", targets: ["StevedoreCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.24.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
    ],
    targets: [
        // Time, injected wherever it matters: the system clock, a virtual clock for tests, one duration grammar.
        .target(name: "Timekeeping"),

        // Content hashing: incremental sha256/sha512 (digests, ledger) and md5/sha1 (Maven), lowercase hex.
        .target(name: "Checksums", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),

        // HTTP transport, knowing no artifact kind: streaming bodies, async-http-client, metering, throttling,
        // the per-host rate limiter and host policy, request logging.
        .target(name: "HTTPTransport", dependencies: [
            "Timekeeping",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Credentials where users keep them: flags, environment, docker's config and credential helpers.
        .target(name: "Credentials"),

        // OCI: references, digests, media types, and the distribution client (auth and tokens, blobs, manifests, tags).
        .target(name: "OCI", dependencies: ["HTTPTransport", "Credentials", "Checksums", "Timekeeping",
                                            .product(name: "HTTPTypes", package: "swift-http-types")]),

        // Images to push and where their bytes come from: OCI layouts, oci-archive and docker-archive files (layers
        // gzipped with compress-nio), the built-in placeholder.
        .target(name: "ImageSources", dependencies: [
            "OCI", "HTTPTransport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "CompressNIO", package: "compress-nio"),
        ]),

        // Generic job runner: bounded concurrency, retries, cancellation, events. Knows nothing about OCI or Maven.
        .target(name: "JobRunner", dependencies: ["Timekeeping"]),

        // Image push logic: what each tag holds, mounts and uploads, tag policy, classification of registry errors.
        .target(name: "ImagePush", dependencies: ["OCI", "ImageSources", "JobRunner", "HTTPTransport"]),

        // The audit log's model and seams: records, async store protocols, the versioned ledger encoding and verifier.
        .target(name: "AuditStore", dependencies: ["Checksums", "Timekeeping"]),

        // The embedded SQLite store behind the AuditStore protocols; schema = migrations/*.sql, embedded at build time.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "SQLiteStore", dependencies: ["AuditStore", "CSQLite", "Checksums"], plugins: ["EmbedMigrations"]),
        .executableTarget(name: "MigrationEmbedder"),
        .plugin(name: "EmbedMigrations", capability: .buildTool(), dependencies: ["MigrationEmbedder"]),

        // The PostgreSQL store behind the same protocols (postgres-nio pool); schema = migrations/postgres/*.sql.
        .target(name: "PostgresStore", dependencies: [
            "AuditStore", "Checksums", "Timekeeping",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], plugins: ["EmbedMigrations"]),

        // `audit copy`: a SQLite audit log read as a dump of its tables, written into the PostgreSQL store.
        .target(name: "AuditCopy", dependencies: ["AuditStore", "CSQLite", "SQLiteStore", "PostgresStore"]),

        // Report rendering: 80-column tables, JSON, CSV, the run summary and the self-contained HTML page.
        .target(name: "Reports", dependencies: ["AuditStore", "Timekeeping"]),

        // The workflows: services file, provision / verify / retry / resume / dry run, the run recorder, typed
        // progress events.
        .target(name: "Workflows", dependencies: [
            "OCI", "ImageSources", "ImagePush", "JobRunner", "AuditStore", "HTTPTransport", "Credentials", "Timekeeping",
            "Maven", "MavenPublish",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Maven domain: coordinates, repository layout scanner and validation, streaming checksums,
        // maven-metadata.xml, SNAPSHOT versions, settings.xml and pom reading. No HTTP.
        .target(name: "Maven", dependencies: [
            "Checksums",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),

        // Maven over HTTP: the repository client, idempotent publish (skip, conflict, metadata merge) and checks,
        // credentials from settings.xml. Knows nothing of the audit log or the CLI.
        .target(name: "MavenPublish", dependencies: [
            "Maven", "HTTPTransport", "JobRunner", "Credentials", "Checksums", "Timekeeping",
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),

        // `stevedore doctor`: the set-up checklist as checks (credentials, registry, token, push access, clock, Maven
        // settings and names), each with its remedy; read-only.
        .target(name: "Doctor", dependencies: [
            "OCI", "HTTPTransport", "Credentials", "Maven", "MavenPublish", "Workflows", "Timekeeping",
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),

        // The git revision the binary was built from (a C define, so a new revision rebuilds one file).
        .target(name: "CBuildInfo", cSettings: revision.map { [.define("STEVEDORE_REVISION", to: "\"\($0)\"")] } ?? []),

        // Thin command-line front end: parsing, exit codes, the console and its progress styles.
        .executableTarget(name: "StevedoreCLI", dependencies: [
            "Workflows", "Doctor", "CBuildInfo", "Reports", "SQLiteStore", "PostgresStore", "AuditCopy", "AuditStore", "Credentials", "HTTPTransport", "OCI", "JobRunner",
            "Timekeeping", "Maven", "MavenPublish",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // make bench: the minimal-sequence client that stands for the registry's ceiling.
        .executableTarget(name: "BenchCeiling", dependencies: [
            "ImageSources",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], path: "bench/CeilingClient"),

        // make bench: the audit store's write rate alone, and the token-mode runs (real registry + token fixture).
        .executableTarget(name: "BenchAudit", dependencies: ["SQLiteStore", "PostgresStore", "AuditStore"], path: "bench/AuditBench"),
        .executableTarget(name: "BenchToken", dependencies: ["TestSupport", "Timekeeping"], path: "bench/TokenBench"),
        .executableTarget(name: "BenchMaven", dependencies: ["TestSupport", "Timekeeping"], path: "bench/MavenBench"),
        // make bench: one run shared by 1 or 3 runner processes on PostgreSQL, beside SQLite and a split by hand.
        .executableTarget(name: "BenchScaleOut", dependencies: ["TestSupport", "Timekeeping"], path: "bench/ScaleOutBench"),

        // Fixtures shared by the tests: real registry processes, skopeo, child processes, the fault proxy, the
        // token server, the in-process fake registry.
        .target(name: "TestSupport", dependencies: [
            "OCI", "HTTPTransport",
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "CryptoExtras", package: "swift-crypto"),
        ], path: "Tests/TestSupport"),

        .testTarget(name: "TimekeepingTests", dependencies: ["Timekeeping"]),
        .testTarget(name: "HTTPTransportTests", dependencies: [
            "HTTPTransport", "Timekeeping",
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "OCITests", dependencies: ["OCI", "ImageSources", "HTTPTransport", "Credentials", "TestSupport"]),
        .testTarget(name: "ImageSourcesTests", dependencies: ["ImageSources", "OCI", "TestSupport"]),
        .testTarget(name: "JobRunnerTests", dependencies: ["JobRunner", "Timekeeping"]),
        .testTarget(name: "AuditStoreTests", dependencies: [
            "AuditStore", "SQLiteStore", "Reports", "Checksums", "Timekeeping", "TestSupport",
        ]),
        .testTarget(name: "WorkflowTests", dependencies: [
            "Workflows", "ImagePush", "ImageSources", "OCI", "SQLiteStore", "AuditStore", "JobRunner", "HTTPTransport",
            "Credentials", "Timekeeping", "TestSupport",
        ]),
        .testTarget(name: "CLITests", dependencies: ["StevedoreCLI", "Doctor", "OCI", "HTTPTransport", "Timekeeping",
                                                   .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "MavenTests", dependencies: ["Maven", "Checksums", "TestSupport"]),
        .testTarget(name: "PostgresTests", dependencies: [
            "PostgresStore", "SQLiteStore", "AuditCopy", "AuditStore", "Checksums", "Timekeeping", "TestSupport",
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .testTarget(name: "IntegrationTests", dependencies: [
            "TestSupport", "ImageSources", "OCI", "Checksums", "HTTPTransport", "Maven",
        ]),
    ],
    swiftLanguageModes: [.v6]
)
