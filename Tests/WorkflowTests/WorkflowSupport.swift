import AuditStore
import Foundation
import HTTPTransport
import ImageSources
import OCI
import SQLiteStore
import Synchronization
import Testing
import TestSupport
import Timekeeping
import Workflows

/// Hands the in-process fake registry to a workflow instead of the network.
struct FakeTransports: TransportProvider {
    let fake: FakeRegistry

    func transport(for access: RegistryAccess, options: RunOptions) -> (transport: any HTTPTransport,
                                                                       shutdown: @Sendable () async -> Void) {
        (fake, {})
    }
}

/// Keeps every progress event for assertions.
final class RecordedProgress: ProgressSink {
    private let events = Mutex<[ProgressEvent]>([])
    func emit(_ event: ProgressEvent) { events.withLock { $0.append(event) } }

    var lines: [String] {
        events.withLock { events in
            events.compactMap { event in
                switch event {
                case .line(let text), .warning(let text): text
                case .jobFinished(let job): job.line
                case .runFinished(let run): run.line
                default: nil
                }
            }
        }
    }

    var rateLimited: [ProgressEvent.RateLimited] {
        events.withLock { $0.compactMap { if case .rateLimited(let pause) = $0 { pause } else { nil } } }
    }
}

/// A workflow wired to a fake registry, a temp-file store and a virtual clock: no network, no real sleeps.
struct WorkflowBench {
    let fake: FakeRegistry
    let directory: String
    let time = ManualTime(autoAdvance: true)
    let progress = RecordedProgress()
    let access = RegistryAccess(registry: try! RegistryHost(parsing: "registry.test"), credentials: nil, plainHTTP: false)

    init(_ configure: (inout FakeRegistry.Options) -> Void = { _ in }) throws {
        fake = FakeRegistry(configure)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("workflow-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    var dbPath: String { directory + "/audit.db" }

    var context: WorkflowContext {
        WorkflowContext(time: time, transports: FakeTransports(fake: fake), progress: progress)
    }

    func store() throws -> SQLiteAuditStore { try SQLiteAuditStore(path: dbPath, now: { [time] in time.wallClock }) }

    func services(_ names: [String], tags: [String] = ["latest", "1.0"]) throws -> ServicesFile {
        var text = "namespace: team\ntags: [\(tags.map { "\"\($0)\"" }.joined(separator: ", "))]\nservices:\n"
        for name in names { text += "  - \(name)\n" }
        return try ServicesFile.parse(Array(text.utf8), path: directory + "/services.yaml")
    }

    var options: RunOptions {
        var options = RunOptions()
        options.concurrency = 4
        return options
    }

    /// Manifest PUTs the fake registry received.
    var manifestPuts: Int { fake.registryRequests.filter { $0.method == "PUT" && $0.path.contains("/manifests/") }.count }
    var writes: Int { fake.registryRequests.filter { ["PUT", "POST", "PATCH", "DELETE"].contains($0.method) }.count }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

let placeholder = PlaceholderImage.image
