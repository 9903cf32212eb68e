// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Stevedore",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "stevedore", targets: ["StevedoreCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.24.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // libsqlite3 from the system (Debian: libsqlite3-dev).
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"])]),

        // OCI Distribution client: references, digests, auth, blob/manifest push, typed errors.
        .target(name: "OCIRegistry", dependencies: [
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Images to push: the built-in placeholder.
        .target(name: "ImageSources", dependencies: ["OCIRegistry"]),

        // Generic job runner: bounded concurrency, retries, events. Knows nothing about OCI.
        .target(name: "JobRunner"),

        // SQLite audit log; schema comes from migrations/*.sql, embedded at build time.
        .target(name: "AuditStore", dependencies: [
            "CSQLite",
            .product(name: "Crypto", package: "swift-crypto"),
        ], plugins: ["EmbedMigrations"]),
        .executableTarget(name: "MigrationEmbedder"),
        .plugin(name: "EmbedMigrations", capability: .buildTool(), dependencies: ["MigrationEmbedder"]),

        // The workflows: services file, plan, push jobs, audit recording, reports.
        .target(name: "Provisioning", dependencies: [
            "OCIRegistry", "ImageSources", "JobRunner", "AuditStore",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),

        // Maven domain: coordinates, repository layout scanner and validation, streaming checksums,
        // maven-metadata.xml, SNAPSHOT versions, settings.xml and pom reading. No HTTP.
        .target(name: "Maven", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),
        ]),

        // Report rendering: the audit queries as 80-column tables, JSON, CSV and a self-contained HTML page.
        .target(name: "Reports", dependencies: ["AuditStore"]),

        // Thin command-line front end.
        .executableTarget(name: "StevedoreCLI", dependencies: [
            "Provisioning", "Reports",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // make bench: the minimal-sequence client that stands for the registry's ceiling.
        .executableTarget(name: "BenchCeiling", dependencies: [
            "ImageSources",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], path: "bench/CeilingClient"),

        // make bench: the audit store's write rate alone, and the token-mode runs (real registry + token fixture).
        .executableTarget(name: "BenchAudit", dependencies: ["AuditStore"], path: "bench/AuditBench"),
        .executableTarget(name: "BenchToken", dependencies: ["TestSupport"], path: "bench/TokenBench"),

        // Fixtures shared by the tests: real registry processes, skopeo, child processes.
        .target(name: "TestSupport", dependencies: [
            "OCIRegistry",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "CryptoExtras", package: "swift-crypto"),
        ], path: "Tests/TestSupport"),

        .testTarget(name: "OCIRegistryTests", dependencies: ["OCIRegistry", "ImageSources"]),
        .testTarget(name: "JobRunnerTests", dependencies: ["JobRunner"]),
        .testTarget(name: "AuditStoreTests", dependencies: ["AuditStore", "Reports"]),
        .testTarget(name: "ProvisioningTests", dependencies: ["Provisioning", "ImageSources", "TestSupport"]),
        .testTarget(name: "MavenTests", dependencies: ["Maven", "TestSupport"]),
        .testTarget(name: "IntegrationTests", dependencies: [
            "Provisioning", "TestSupport", "AuditStore", "OCIRegistry", "Maven",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
