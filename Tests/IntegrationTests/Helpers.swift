import Foundation
import ImageSources
import OCI
import Testing
import TestSupport

/// A scratch directory with a services file and an audit database path, removed at the end.
struct Workspace {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("stevedore-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    var db: String { directory.appendingPathComponent("audit.db").path }

    /// Writes a services file and returns its path.
    func servicesFile(_ name: String = "services.yaml", namespace: String, services: [String], tags: [String]) throws -> String {
        var text = "namespace: \(namespace)\ntags: [\(tags.map { "\"\($0)\"" }.joined(separator: ", "))]\nservices:\n"
        for service in services { text += "  - \(service)\n" }
        return try write(name, text)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}

/// The 15 Stage0 services from examples/stage0.yaml.
let stage0Services = [
    "stage0_kafka_connect", "stage0_mongo_api", "stage0_mongodb_spa", "stage0_search_api", "stage0_search_spa",
    "stage0_cat_bot", "stage0_cat_spa", "stage0_fran_bot", "stage0_fran_spa", "stage0_paul_bot", "stage0_paul_spa",
    "stage0_sam_bot", "stage0_sam_spa", "stage0_identity_api", "stage0_identity_spa",
]

let placeholderDigest = PlaceholderImage.image.manifestDigest.description

/// Decodes `stevedore report summary --format json`.
func summaryJSON(db: String, run: Int64? = nil) async throws -> [String: Any] {
    var arguments = ["report", "summary", "--format", "json", "--db", db]
    if let run { arguments.insert(String(run), at: 2) }
    let result = try await runStevedore(arguments, environment: [:])
    #expect(result.exitCode == 0, "report failed: \(result.stderr)")
    return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
}

/// Counts access-log entries matching a method and a path fragment.
func count(_ log: [AccessLogEntry], _ method: String, _ pathContains: String) -> Int {
    log.filter { $0.method == method && $0.path.contains(pathContains) }.count
}

/// Runs a read-only SQL query with the sqlite3 CLI and returns its rows (`|`-separated).
func sqlite(_ db: String, _ sql: String) async throws -> [String] {
    let result = try await ChildProcess.run(executable: "/usr/bin/sqlite3", arguments: [db, sql], environment: [:])
    #expect(result.exitCode == 0, "sqlite3 failed: \(result.stderr)")
    return result.stdout.split(separator: "\n").map(String.init)
}
