import Foundation
import AuditStore
import HTTPTransport
import Synchronization

/// One recorded job as the runner handles it: its audit identity, and the domain's payload (an image push, a
/// Maven artifact) which keeps its own progress across attempts.
public struct WorkItem<Payload: Sendable>: Sendable {
    public let runID: RunID
    public let id: JobID
    public let seq: Int
    public let service: String
    /// Where the job writes, for lines and events (`ghcr.io/org/api`).
    public let target: String
    /// Attempts recorded by earlier processes (a resumed run numbers its attempts after them).
    public let priorAttempts: Int
    public let payload: Payload
    /// The lease this process holds on the job, when it was claimed from a shared queue: every write about it is
    /// fenced on it.
    public let claim: JobClaim?
    let meter = MeterBox()

    public init(runID: RunID, id: JobID, seq: Int, service: String, target: String, priorAttempts: Int = 0,
                payload: Payload, claim: JobClaim? = nil) {
        self.runID = runID
        self.id = id
        self.seq = seq
        self.service = service
        self.target = target
        self.priorAttempts = priorAttempts
        self.payload = payload
        self.claim = claim
    }

    /// The same job under a claim (its attempts numbered after those recorded before the claim).
    func claimed(_ claim: JobClaim) -> WorkItem {
        WorkItem(runID: runID, id: id, seq: seq, service: service, target: target, priorAttempts: claim.priorAttempts,
                 payload: payload, claim: claim)
    }
}

/// The request meter of a job's current attempt, read when the attempt is recorded, and the job's total.
final class MeterBox: Sendable {
    private let job = RequestMeter()
    private let current: Mutex<RequestMeter>

    init() {
        current = Mutex(RequestMeter(parent: job))
    }

    /// Starts metering a new attempt and returns its meter.
    func startAttempt() -> RequestMeter {
        let meter = RequestMeter(parent: job)
        current.withLock { $0 = meter }
        return meter
    }

    var meter: RequestMeter { current.withLock { $0 } }

    /// Body bytes every attempt of the job sent.
    var total: Int64 { job.bytesSent }
}

/// What the workflow layer needs to know about one kind of job (the seam a new artifact kind plugs into): how its
/// output becomes the job's status and item results, and how a finished job reads in a line.
public protocol JobKindHandler: Sendable {
    associatedtype Payload: Sendable
    associatedtype Output: Sendable

    var kind: JobKind { get }
    /// The item results to record when the job ends (also when it failed part-way).
    func items(of payload: Payload, at: Date) -> [ItemResult]
    /// The job's end when its last attempt succeeded.
    func completion(of payload: Payload, output: Output, at: Date) -> JobCompletion
    /// How much of the job is done: grows when an attempt advances it (such attempts do not count against the limit).
    func advancement(of payload: Payload) -> Int
    /// The human line for a successful job.
    func line(target: String, output: Output, attempts: Int) -> String
    /// What the attempt that just ended did with each blob (taken: the next attempt starts empty).
    func takeBlobActions(of payload: Payload, at: Date) -> [BlobActionRecord]
    /// The manifests the job put, recorded with its end.
    func manifests(of payload: Payload, at: Date) -> [ManifestRecord]
    /// Bytes the job may have to send (its share of the run's byte progress).
    func bytes(of payload: Payload) -> Int64
}

extension JobKindHandler {
    public func takeBlobActions(of payload: Payload, at: Date) -> [BlobActionRecord] { [] }
    public func manifests(of payload: Payload, at: Date) -> [ManifestRecord] { [] }
    public func bytes(of payload: Payload) -> Int64 { 0 }
}
