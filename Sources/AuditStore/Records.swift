import Foundation

public typealias RunID = Int64
public typealias JobID = Int64

public enum RunStatus: String, Sendable, Codable, CaseIterable { case running, succeeded, failed, interrupted, died }
public enum JobStatus: String, Sendable, Codable, CaseIterable { case pending, running, succeeded, skipped, failed, cancelled }
public enum AttemptOutcome: String, Sendable, Codable { case succeeded, failed, cancelled }

/// What a job publishes: the domain that runs it names it, the store records it as text.
public struct JobKind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// An image (or index) pushed to, or checked in, an OCI registry repository.
    public static let ociImage = JobKind(rawValue: "oci-image")
    /// The files of one Maven artifact version uploaded to a Maven repository.
    public static let mavenArtifact = JobKind(rawValue: "maven-artifact")
}

/// A run about to start. `command` is any command name (`provision`, `push`, `maven publish`, ...).
public struct NewRun: Sendable {
    public var command: String
    public var commandLine: String
    public var toolVersion: String
    public var host: String
    public var user: String
    public var inputFile: String?
    public var inputSHA256: String?
    public var registry: String?
    public var namespace: String?
    public var options: String?
    public var parentRunID: RunID?
    public var startedAt: Date
    public var pid: Int32?

    public init(command: String, commandLine: String, toolVersion: String, host: String, user: String,
                inputFile: String? = nil, inputSHA256: String? = nil, registry: String? = nil, namespace: String? = nil,
                options: String? = nil, parentRunID: RunID? = nil, startedAt: Date, pid: Int32? = nil) {
        self.command = command
        self.commandLine = commandLine
        self.toolVersion = toolVersion
        self.host = host
        self.user = user
        self.inputFile = inputFile
        self.inputSHA256 = inputSHA256
        self.registry = registry
        self.namespace = namespace
        self.options = options
        self.parentRunID = parentRunID
        self.startedAt = startedAt
        self.pid = pid
    }
}

/// A job to record, pending, with its run: a kind, a target (`registry` host and `repository` path within it,
/// `target` as one address) and its items (tags of an image, files of a Maven artifact).
public struct NewJob: Sendable {
    public var seq: Int
    public var kind: JobKind
    /// The name users know the job by: a service, or Maven coordinates.
    public var service: String
    public var registry: String
    public var repository: String
    /// The whole address written to, e.g. `ghcr.io/org/api` or `https://maven.pkg.github.com/org/repo`.
    public var target: String
    public var items: [String]
    /// Where the job's content comes from (`oci:DIR:TAG`, `placeholder`, ...), and its digest as read.
    public var source: String?
    public var sourceDigest: String?

    public init(seq: Int, kind: JobKind = .ociImage, service: String, registry: String, repository: String,
                target: String? = nil, items: [String], source: String? = nil, sourceDigest: String? = nil) {
        self.seq = seq
        self.kind = kind
        self.service = service
        self.registry = registry
        self.repository = repository
        self.target = target ?? "\(registry)/\(repository)"
        self.items = items
        self.source = source
        self.sourceDigest = sourceDigest
    }
}

/// One try of a job.
public struct AttemptRecord: Sendable, Equatable {
    public var runID: RunID
    public var jobID: JobID
    public var number: Int
    public var startedAt: Date
    public var durationMs: Int
    public var outcome: AttemptOutcome
    public var httpStatus: Int?
    public var errorCode: String?
    public var errorClass: String?
    public var message: String?
    public var requests: Int
    public var bytesSent: Int
    public var waitMs: Int?
    public var waitReason: String?
    /// What the attempt did with each blob (image jobs).
    public var blobs: [BlobActionRecord] = []
    /// The lease the attempt ran under, for a job claimed from a shared queue: the attempt is recorded only while
    /// the runner still holds it.
    public var fence: ClaimFence?
    /// For a claimed job: the queue runs it again after this (the retry is scheduled, not slept on).
    public var reschedule: Reschedule?

    public init(runID: RunID, jobID: JobID, number: Int, startedAt: Date, durationMs: Int, outcome: AttemptOutcome,
                httpStatus: Int? = nil, errorCode: String? = nil, errorClass: String? = nil, message: String? = nil,
                requests: Int = 0, bytesSent: Int = 0, waitMs: Int? = nil, waitReason: String? = nil) {
        self.runID = runID
        self.jobID = jobID
        self.number = number
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.outcome = outcome
        self.httpStatus = httpStatus
        self.errorCode = errorCode
        self.errorClass = errorClass
        self.message = message
        self.requests = requests
        self.bytesSent = bytesSent
        self.waitMs = waitMs
        self.waitReason = waitReason
    }
}

/// What happened to one item of a job (a tag, a file), in the words of the domain that did it.
public struct ItemResult: Sendable, Equatable {
    public var item: String
    /// The domain's action name (`pushed`, `kept`, `uploaded`, `conflict`, ...).
    public var action: String
    public var digestBefore: String?
    public var digestAfter: String?
    /// Bytes of the item, where it has a size (files).
    public var size: Int64?
    /// Kind-specific facts as a JSON object (e.g. a file's sha1), or nil.
    public var detail: String?
    public var at: Date

    public init(item: String, action: String, digestBefore: String? = nil, digestAfter: String? = nil,
                size: Int64? = nil, detail: String? = nil, at: Date) {
        self.item = item
        self.action = action
        self.digestBefore = digestBefore
        self.digestAfter = digestAfter
        self.size = size
        self.detail = detail
        self.at = at
    }
}

/// How a job ended.
public struct JobCompletion: Sendable {
    public var status: JobStatus
    public var digest: String?
    public var errorClass: String?
    public var errorMessage: String?
    public var finishedAt: Date

    public init(status: JobStatus, digest: String?, errorClass: String?, errorMessage: String?, finishedAt: Date) {
        self.status = status
        self.digest = digest
        self.errorClass = errorClass
        self.errorMessage = errorMessage
        self.finishedAt = finishedAt
    }
}

/// A job's end as one write: its completion, its last attempt if not recorded yet, and its item results.
public struct JobFinish: Sendable {
    public var runID: RunID
    public var jobID: JobID
    public var completion: JobCompletion
    public var lastAttempt: AttemptRecord?
    public var items: [ItemResult]
    /// The manifests the job put (image jobs).
    public var manifests: [ManifestRecord]
    /// For a job claimed from a shared queue: the finish is recorded (and the claim closed) only while the runner
    /// still holds this lease.
    public var fence: ClaimFence?

    public init(runID: RunID, jobID: JobID, completion: JobCompletion, lastAttempt: AttemptRecord? = nil,
                items: [ItemResult] = [], manifests: [ManifestRecord] = [], fence: ClaimFence? = nil) {
        self.runID = runID
        self.jobID = jobID
        self.completion = completion
        self.lastAttempt = lastAttempt
        self.items = items
        self.manifests = manifests
        self.fence = fence
    }
}

/// One pause of every worker by the rate limiter, to record.
public struct PauseRecord: Sendable {
    public var runID: RunID
    public var registry: String
    public var at: Date
    public var durationMs: Int
    public var rateAfter: Double?
    public var reason: String

    public init(runID: RunID, registry: String, at: Date, durationMs: Int, rateAfter: Double?, reason: String) {
        self.runID = runID
        self.registry = registry
        self.at = at
        self.durationMs = durationMs
        self.rateAfter = rateAfter
        self.reason = reason
    }
}
