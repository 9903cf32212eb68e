import AuditStore
import Foundation
import JobRunner
import MavenPublish

/// Maven jobs (one artifact version's files published to, or checked in, a Maven repository) as the workflow layer
/// records them: one item result per file (action, size, sha256 as the digest, sha1 in the detail).
public struct MavenKind: JobKindHandler {
    public init() {}

    public var kind: JobKind { .mavenArtifact }

    public func items(of payload: MavenJob, at: Date) -> [ItemResult] {
        payload.progress.outcomes(in: payload).map { file in
            ItemResult(item: file.name, action: file.action.rawValue, digestAfter: "sha256:\(file.sha256)", size: file.size,
                       detail: #"{"sha1":"\#(file.sha1)"}"#, at: at)
        }
    }

    public func completion(of payload: MavenJob, output: [FileOutcome], at: Date) -> JobCompletion {
        let uploaded = output.contains { $0.action == .uploaded }
        let checked = output.contains { [.verified, .missing, .different].contains($0.action) }
        let missing = output.filter { $0.action == .missing || $0.action == .different }
        return JobCompletion(status: !missing.isEmpty ? .failed : uploaded || checked ? .succeeded : .skipped,
                             digest: output.first { $0.name.hasSuffix(".pom") }.map { "sha256:\($0.sha256)" },
                             errorClass: missing.isEmpty ? nil
                                : missing.contains { $0.action == .different } ? FailureClass.conflict.rawValue
                                : FailureClass.notFound.rawValue,
                             errorMessage: missing.isEmpty ? nil
                                : missing.map { "\($0.name) \($0.action.rawValue)" }.joined(separator: ", "),
                             finishedAt: at)
    }

    public func advancement(of payload: MavenJob) -> Int { payload.progress.advancement }

    public func bytes(of payload: MavenJob) -> Int64 { payload.files.reduce(0) { $0 + $1.file.size } }

    public func line(target: String, output: [FileOutcome], attempts: Int) -> String {
        var groups: [(FileAction, [String])] = []
        for file in output {
            if let index = groups.firstIndex(where: { $0.0 == file.action }) {
                groups[index].1.append(file.name)
            } else {
                groups.append((file.action, [file.name]))
            }
        }
        let status = groups.contains { $0.0 == .uploaded } ? "uploaded"
            : groups.contains { $0.0 == .missing || $0.0 == .different } ? "missing"
            : groups.contains { $0.0 == .verified } ? "ok" : "skipped"
        let detail = groups.map { "\($0.0.rawValue): \($0.1.count == 1 ? $0.1[0] : "\($0.1.count) files")" }
            .joined(separator: "; ")
        let retries = attempts > 1 ? " (after \(attempts) attempts)" : ""
        return "\(status.padding(toLength: 9, withPad: " ", startingAt: 0)) \(target)  \(detail)\(retries)"
    }
}
