import Foundation

public typealias RunID = Int64
public typealias JobID = Int64

public enum RunStatus: String, Sendable, Codable { case running, succeeded, failed, interrupted, died }
public enum JobStatus: String, Sendable, Codable { case pending, running, succeeded, skipped, failed, cancelled }
public enum AttemptOutcome: String, Sendable, Codable { case succeeded, failed, cancelled }
public enum TagAction: String, Sendable, Codable { case pushed, skipped, kept, overwritten, verified, missing, different, planned }

/// A run about to start.
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

/// A job to record, pending, with its run.
public struct NewJob: Sendable {
    public var seq: Int
    public var service: String
    public var registry: String
    public var repository: String
    public var tags: [String]

    public init(seq: Int, service: String, registry: String, repository: String, tags: [String]) {
        self.seq = seq
        self.service = service
        self.registry = registry
        self.repository = repository
        self.tags = tags
    }
}

/// One try of a job.
public struct AttemptRecord: Sendable, Equatable {
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

    public init(jobID: JobID, number: Int, startedAt: Date, durationMs: Int, outcome: AttemptOutcome,
                httpStatus: Int? = nil, errorCode: String? = nil, errorClass: String? = nil, message: String? = nil,
                requests: Int = 0, bytesSent: Int = 0, waitMs: Int? = nil, waitReason: String? = nil) {
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

/// What happened to one tag of a job.
public struct TagResult: Sendable, Equatable {
    public var jobID: JobID
    public var tag: String
    public var action: TagAction
    public var digestBefore: String?
    public var digestAfter: String?
    public var at: Date

    public init(jobID: JobID, tag: String, action: TagAction, digestBefore: String?, digestAfter: String?, at: Date) {
        self.jobID = jobID
        self.tag = tag
        self.action = action
        self.digestBefore = digestBefore
        self.digestAfter = digestAfter
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

/// A recorded run.
public struct RunRow: Sendable, Codable, Equatable {
    public var id: RunID
    public var command: String
    public var commandLine: String
    public var toolVersion: String
    public var host: String
    public var user: String
    public var inputFile: String?
    public var inputSHA256: String?
    public var registry: String?
    public var namespace: String?
    public var status: RunStatus
    public var startedAt: String
    public var finishedAt: String?
    public var parentRunID: RunID?
    public var pid: Int32?
}

/// A recorded job.
public struct JobRow: Sendable, Codable, Equatable {
    public var id: JobID
    public var runID: RunID
    public var seq: Int
    public var service: String
    public var registry: String
    public var repository: String
    public var tags: [String]
    public var status: JobStatus
    public var attempts: Int
    public var errorClass: String?
    public var errorMessage: String?
    public var digest: String?
    public var startedAt: String?
    public var finishedAt: String?
    public var durationMs: Int?
}

/// Counts of one run. The JSON keys are a stable contract: keys are added, never renamed.
public struct RunSummary: Sendable, Codable, Equatable {
    public var runID: RunID
    public var status: RunStatus
    public var command: String
    public var jobsTotal: Int
    public var jobsSucceeded: Int
    public var jobsSkipped: Int
    public var jobsFailed: Int
    public var jobsCancelled: Int
    /// Jobs not finished: pending or running.
    public var jobsPending: Int
    public var attemptsTotal: Int
    public var attemptsFailed: Int
    public var tagsPushed: Int
    public var tagsSkipped: Int
    public var tagsKept: Int
    public var startedAt: String
    public var finishedAt: String?
    public var inputFile: String?
    public var registry: String?
    public var namespace: String?
    /// Attempts beyond each job's first.
    public var retries: Int = 0
    /// Failed (and cancelled) jobs by error class.
    public var jobsByErrorClass: [String: Int] = [:]
    /// Failed attempts by error class.
    public var attemptsByErrorClass: [String: Int] = [:]
    /// Rate-limiter pauses of every worker, and their total length.
    public var rateLimitPauses: Int = 0
    public var rateLimitWaitMs: Int = 0
    /// The back-off waits chosen after failed attempts, in total.
    public var retryWaitMs: Int = 0
    public var requests: Int = 0
    public var bytesSent: Int = 0
    public var attemptLatencyP50Ms: Int?
    public var attemptLatencyP95Ms: Int?
    public var attemptLatencyMaxMs: Int?
    public var wallMs: Int?
    /// Time the process spent writing the audit log (recorded when the run finished).
    public var auditWriteMs: Int?
    /// CPU time of those writes.
    public var auditCPUMs: Int?
    /// The run's last ledger hash (hex): keep it elsewhere to check the log later with `audit verify --expect-head`.
    public var ledgerRunHead: String?

    enum CodingKeys: String, CodingKey {
        case retries, jobsByErrorClass = "jobs_by_error_class", attemptsByErrorClass = "attempts_by_error_class"
        case rateLimitPauses = "rate_limit_pauses", rateLimitWaitMs = "rate_limit_wait_ms", retryWaitMs = "retry_wait_ms"
        case requests, bytesSent = "bytes_sent", attemptLatencyP50Ms = "attempt_latency_p50_ms"
        case attemptLatencyP95Ms = "attempt_latency_p95_ms", attemptLatencyMaxMs = "attempt_latency_max_ms"
        case wallMs = "wall_ms", auditWriteMs = "audit_write_ms", auditCPUMs = "audit_cpu_ms", ledgerRunHead = "ledger_run_head"
        case runID = "run_id", status, command
        case jobsTotal = "jobs_total", jobsSucceeded = "jobs_succeeded", jobsSkipped = "jobs_skipped"
        case jobsFailed = "jobs_failed", jobsCancelled = "jobs_cancelled", jobsPending = "jobs_pending"
        case attemptsTotal = "attempts_total", attemptsFailed = "attempts_failed"
        case tagsPushed = "tags_pushed", tagsSkipped = "tags_skipped", tagsKept = "tags_kept"
        case startedAt = "started_at", finishedAt = "finished_at", inputFile = "input_file", registry, namespace
    }

    /// Encodes every key, `null` included, so scripts can rely on their presence.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(runID, forKey: .runID)
        try container.encode(status, forKey: .status)
        try container.encode(command, forKey: .command)
        try container.encode(jobsTotal, forKey: .jobsTotal)
        try container.encode(jobsSucceeded, forKey: .jobsSucceeded)
        try container.encode(jobsSkipped, forKey: .jobsSkipped)
        try container.encode(jobsFailed, forKey: .jobsFailed)
        try container.encode(jobsCancelled, forKey: .jobsCancelled)
        try container.encode(jobsPending, forKey: .jobsPending)
        try container.encode(attemptsTotal, forKey: .attemptsTotal)
        try container.encode(attemptsFailed, forKey: .attemptsFailed)
        try container.encode(tagsPushed, forKey: .tagsPushed)
        try container.encode(tagsSkipped, forKey: .tagsSkipped)
        try container.encode(tagsKept, forKey: .tagsKept)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(inputFile, forKey: .inputFile)
        try container.encode(registry, forKey: .registry)
        try container.encode(namespace, forKey: .namespace)
        try container.encode(retries, forKey: .retries)
        try container.encode(jobsByErrorClass, forKey: .jobsByErrorClass)
        try container.encode(attemptsByErrorClass, forKey: .attemptsByErrorClass)
        try container.encode(rateLimitPauses, forKey: .rateLimitPauses)
        try container.encode(rateLimitWaitMs, forKey: .rateLimitWaitMs)
        try container.encode(retryWaitMs, forKey: .retryWaitMs)
        try container.encode(requests, forKey: .requests)
        try container.encode(bytesSent, forKey: .bytesSent)
        try container.encode(attemptLatencyP50Ms, forKey: .attemptLatencyP50Ms)
        try container.encode(attemptLatencyP95Ms, forKey: .attemptLatencyP95Ms)
        try container.encode(attemptLatencyMaxMs, forKey: .attemptLatencyMaxMs)
        try container.encode(wallMs, forKey: .wallMs)
        try container.encode(auditWriteMs, forKey: .auditWriteMs)
        try container.encode(auditCPUMs, forKey: .auditCPUMs)
        try container.encode(ledgerRunHead, forKey: .ledgerRunHead)
    }
}
