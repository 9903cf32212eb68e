import AuditStore
import Foundation
import ImagePush
import JobRunner
import OCI

/// Image jobs (push or check of an image on a repository's tags) as the workflow layer records them.
public struct ImageKind: JobKindHandler {
    public init() {}

    public var kind: JobKind { .ociImage }

    public func items(of payload: ImageJob, at: Date) -> [ItemResult] {
        payload.progress.outcomes(in: payload.tags).map { tag in
            ItemResult(item: tag.tag.value, action: tag.action.rawValue, digestBefore: tag.before?.description,
                       digestAfter: tag.after?.description, at: at)
        }
    }

    public func completion(of payload: ImageJob, output: [TagOutcome], at: Date) -> JobCompletion {
        let expected = payload.digest
        let changed = output.contains { [.pushed, .overwritten, .moved].contains($0.action) }
        let checked = output.contains { $0.action == .verified || $0.action == .different }
        let kept = output.filter { $0.action == .kept }
        let holds = output.contains { $0.after == expected }
        return JobCompletion(status: changed || checked ? .succeeded : .skipped,
                             digest: holds ? expected.description : output.first?.after?.description,
                             errorClass: kept.isEmpty ? nil : FailureClass.conflict.rawValue,
                             errorMessage: kept.isEmpty ? nil : Self.keptMessage(kept), finishedAt: at)
    }

    public func advancement(of payload: ImageJob) -> Int { payload.progress.advancement }

    public func takeBlobActions(of payload: ImageJob, at: Date) -> [BlobActionRecord] {
        payload.progress.takeBlobActions().map { blob in
            BlobActionRecord(digest: blob.digest.description, size: blob.size, mediaType: blob.mediaType,
                             action: blob.kind.rawValue, bytesSent: blob.bytesSent, durationMs: blob.durationMs, at: at)
        }
    }

    public func manifests(of payload: ImageJob, at: Date) -> [ManifestRecord] {
        payload.progress.pushedManifests.map { manifest in
            ManifestRecord(digest: manifest.digest.description, mediaType: manifest.mediaType,
                           platform: manifest.platform, tags: manifest.tags, size: manifest.size, at: at)
        }
    }

    public func bytes(of payload: ImageJob) -> Int64 { payload.image.loaded?.artifact.totalBlobBytes ?? 0 }

    public func line(target: String, output: [TagOutcome], attempts: Int) -> String {
        var groups: [(TagAction, [String])] = []
        for outcome in output {
            if let index = groups.firstIndex(where: { $0.0 == outcome.action }) {
                groups[index].1.append(outcome.tag.value)
            } else {
                groups.append((outcome.action, [outcome.tag.value]))
            }
        }
        let status = groups.contains { [.pushed, .overwritten, .moved].contains($0.0) } ? "pushed"
            : groups.contains { $0.0 == .missing } ? "missing"
            : groups.contains { $0.0 == .verified || $0.0 == .different } ? "ok" : "skipped"
        let detail = groups.map { "\($0.0.rawValue): \($0.1.joined(separator: ","))" }.joined(separator: "; ")
        let retries = attempts > 1 ? " (after \(attempts) attempts)" : ""
        return "\(status.padding(toLength: 9, withPad: " ", startingAt: 0)) \(target)  \(detail)\(retries)"
    }

    static func keptMessage(_ kept: [TagOutcome]) -> String {
        let list = kept.map { "\($0.tag) holds \($0.before.map { String($0.description.prefix(19)) } ?? "?")" }
        return "left untouched: \(list.joined(separator: ", ")) (not the placeholder; --force overwrites)"
    }
}
