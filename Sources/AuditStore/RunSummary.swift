import Foundation

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
    /// Blob bytes uploaded, and blob bytes that did not need to be (mounted from another repository, or present).
    public var bytesUploaded: Int64 = 0
    public var bytesMounted: Int64 = 0
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
        case requests, bytesSent = "bytes_sent", bytesUploaded = "bytes_uploaded", bytesMounted = "bytes_mounted", attemptLatencyP50Ms = "attempt_latency_p50_ms"
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
        try container.encode(bytesUploaded, forKey: .bytesUploaded)
        try container.encode(bytesMounted, forKey: .bytesMounted)
        try container.encode(attemptLatencyP50Ms, forKey: .attemptLatencyP50Ms)
        try container.encode(attemptLatencyP95Ms, forKey: .attemptLatencyP95Ms)
        try container.encode(attemptLatencyMaxMs, forKey: .attemptLatencyMaxMs)
        try container.encode(wallMs, forKey: .wallMs)
        try container.encode(auditWriteMs, forKey: .auditWriteMs)
        try container.encode(auditCPUMs, forKey: .auditCPUMs)
        try container.encode(ledgerRunHead, forKey: .ledgerRunHead)
    }

    public init(runID: RunID, status: RunStatus, command: String, jobsTotal: Int, jobsSucceeded: Int, jobsSkipped: Int, jobsFailed: Int, jobsCancelled: Int, jobsPending: Int, attemptsTotal: Int, attemptsFailed: Int, tagsPushed: Int, tagsSkipped: Int, tagsKept: Int, startedAt: String, finishedAt: String? = nil, inputFile: String? = nil, registry: String? = nil, namespace: String? = nil, retries: Int = 0, jobsByErrorClass: [String: Int] = [:], attemptsByErrorClass: [String: Int] = [:], rateLimitPauses: Int = 0, rateLimitWaitMs: Int = 0, retryWaitMs: Int = 0, requests: Int = 0, bytesSent: Int = 0, attemptLatencyP50Ms: Int? = nil, attemptLatencyP95Ms: Int? = nil, attemptLatencyMaxMs: Int? = nil, wallMs: Int? = nil, auditWriteMs: Int? = nil, auditCPUMs: Int? = nil, ledgerRunHead: String? = nil) {
        self.runID = runID
        self.status = status
        self.command = command
        self.jobsTotal = jobsTotal
        self.jobsSucceeded = jobsSucceeded
        self.jobsSkipped = jobsSkipped
        self.jobsFailed = jobsFailed
        self.jobsCancelled = jobsCancelled
        self.jobsPending = jobsPending
        self.attemptsTotal = attemptsTotal
        self.attemptsFailed = attemptsFailed
        self.tagsPushed = tagsPushed
        self.tagsSkipped = tagsSkipped
        self.tagsKept = tagsKept
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.inputFile = inputFile
        self.registry = registry
        self.namespace = namespace
        self.retries = retries
        self.jobsByErrorClass = jobsByErrorClass
        self.attemptsByErrorClass = attemptsByErrorClass
        self.rateLimitPauses = rateLimitPauses
        self.rateLimitWaitMs = rateLimitWaitMs
        self.retryWaitMs = retryWaitMs
        self.requests = requests
        self.bytesSent = bytesSent
        self.attemptLatencyP50Ms = attemptLatencyP50Ms
        self.attemptLatencyP95Ms = attemptLatencyP95Ms
        self.attemptLatencyMaxMs = attemptLatencyMaxMs
        self.wallMs = wallMs
        self.auditWriteMs = auditWriteMs
        self.auditCPUMs = auditCPUMs
        self.ledgerRunHead = ledgerRunHead
    }
}
