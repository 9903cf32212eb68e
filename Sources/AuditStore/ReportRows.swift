import Foundation

/// One row of `report runs`.
public struct RunListRow: Sendable, Codable, Equatable {
    public var runID: RunID
    public var command: String
    public var status: RunStatus
    public var startedAt: String
    public var finishedAt: String?
    public var durationMs: Int?
    public var user: String
    public var host: String
    public var inputFile: String?
    public var inputSHA256: String?
    public var registry: String?
    public var namespace: String?
    public var parentRunID: RunID?
    public var jobsTotal: Int
    public var jobsSucceeded: Int
    public var jobsSkipped: Int
    public var jobsFailed: Int
    public var jobsCancelled: Int
    public var jobsPending: Int
    public var attempts: Int

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", command, status, startedAt = "started_at", finishedAt = "finished_at"
        case durationMs = "duration_ms", user, host, inputFile = "input_file", inputSHA256 = "input_sha256"
        case registry, namespace, parentRunID = "parent_run_id", jobsTotal = "jobs_total"
        case jobsSucceeded = "jobs_succeeded", jobsSkipped = "jobs_skipped", jobsFailed = "jobs_failed"
        case jobsCancelled = "jobs_cancelled", jobsPending = "jobs_pending", attempts
    }

    public init(runID: RunID, command: String, status: RunStatus, startedAt: String, finishedAt: String? = nil, durationMs: Int? = nil, user: String, host: String, inputFile: String? = nil, inputSHA256: String? = nil, registry: String? = nil, namespace: String? = nil, parentRunID: RunID? = nil, jobsTotal: Int, jobsSucceeded: Int, jobsSkipped: Int, jobsFailed: Int, jobsCancelled: Int, jobsPending: Int, attempts: Int) {
        self.runID = runID
        self.command = command
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.durationMs = durationMs
        self.user = user
        self.host = host
        self.inputFile = inputFile
        self.inputSHA256 = inputSHA256
        self.registry = registry
        self.namespace = namespace
        self.parentRunID = parentRunID
        self.jobsTotal = jobsTotal
        self.jobsSucceeded = jobsSucceeded
        self.jobsSkipped = jobsSkipped
        self.jobsFailed = jobsFailed
        self.jobsCancelled = jobsCancelled
        self.jobsPending = jobsPending
        self.attempts = attempts
    }
}

/// One row of `report failures`: a failed job, why, and the last failed attempt.
public struct FailureRow: Sendable, Codable, Equatable {
    public var runID: RunID
    public var jobID: JobID
    public var service: String
    public var registry: String
    public var repository: String
    public var tags: [String]
    public var attempts: Int
    public var errorClass: String?
    public var message: String?
    public var httpStatus: Int?
    public var errorCode: String?
    public var finishedAt: String?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", jobID = "job_id", service, registry, repository, tags, attempts
        case errorClass = "error_class", message, httpStatus = "http_status", errorCode = "error_code"
        case finishedAt = "finished_at"
    }

    public init(runID: RunID, jobID: JobID, service: String, registry: String, repository: String, tags: [String], attempts: Int, errorClass: String? = nil, message: String? = nil, httpStatus: Int? = nil, errorCode: String? = nil, finishedAt: String? = nil) {
        self.runID = runID
        self.jobID = jobID
        self.service = service
        self.registry = registry
        self.repository = repository
        self.tags = tags
        self.attempts = attempts
        self.errorClass = errorClass
        self.message = message
        self.httpStatus = httpStatus
        self.errorCode = errorCode
        self.finishedAt = finishedAt
    }
}

/// What one job did to one tag (`report service`).
public struct TagHistoryRow: Sendable, Codable, Equatable {
    public var tag: String
    public var action: String
    public var digestBefore: String?
    public var digestAfter: String?
    public var recordedAt: String

    enum CodingKeys: String, CodingKey {
        case tag, action, digestBefore = "digest_before", digestAfter = "digest_after", recordedAt = "recorded_at"
    }

    public init(tag: String, action: String, digestBefore: String? = nil, digestAfter: String? = nil, recordedAt: String) {
        self.tag = tag
        self.action = action
        self.digestBefore = digestBefore
        self.digestAfter = digestAfter
        self.recordedAt = recordedAt
    }
}

/// One job of a service, with its run and tags (`report service`).
public struct ServiceHistoryRow: Sendable, Codable, Equatable {
    public var runID: RunID
    public var runCommand: String
    public var runStartedAt: String
    public var jobID: JobID
    public var registry: String
    public var repository: String
    public var status: JobStatus
    public var attempts: Int
    public var errorClass: String?
    public var errorMessage: String?
    public var digest: String?
    public var finishedAt: String?
    public var tags: [TagHistoryRow]

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", runCommand = "run_command", runStartedAt = "run_started_at", jobID = "job_id"
        case registry, repository, status, attempts, errorClass = "error_class", errorMessage = "error_message"
        case digest, finishedAt = "finished_at", tags
    }

    public init(runID: RunID, runCommand: String, runStartedAt: String, jobID: JobID, registry: String, repository: String, status: JobStatus, attempts: Int, errorClass: String? = nil, errorMessage: String? = nil, digest: String? = nil, finishedAt: String? = nil, tags: [TagHistoryRow]) {
        self.runID = runID
        self.runCommand = runCommand
        self.runStartedAt = runStartedAt
        self.jobID = jobID
        self.registry = registry
        self.repository = repository
        self.status = status
        self.attempts = attempts
        self.errorClass = errorClass
        self.errorMessage = errorMessage
        self.digest = digest
        self.finishedAt = finishedAt
        self.tags = tags
    }
}

/// What the log says one registry/repository:tag holds now (`report state`).
public struct StateRow: Sendable, Codable, Equatable {
    public var registry: String
    public var repository: String
    public var tag: String
    public var service: String
    public var digest: String?
    public var action: String
    public var recordedAt: String
    public var runID: RunID
    public var jobID: JobID
    /// Where the job that last touched the tag read its image (`docker://…` for a mirrored tag: the upstream
    /// reference; `digest` is then the upstream digest it holds).
    public var source: String? = nil

    enum CodingKeys: String, CodingKey {
        case registry, repository, tag, service, digest, action, recordedAt = "recorded_at", runID = "run_id"
        case jobID = "job_id", source
    }

    public init(registry: String, repository: String, tag: String, service: String, digest: String? = nil, action: String, recordedAt: String, runID: RunID, jobID: JobID) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.service = service
        self.digest = digest
        self.action = action
        self.recordedAt = recordedAt
        self.runID = runID
        self.jobID = jobID
    }
}

/// One attempt with its job (`report attempts`).
public struct AttemptListRow: Sendable, Codable, Equatable {
    public var runID: RunID
    public var jobID: JobID
    public var service: String
    public var repository: String
    public var number: Int
    public var startedAt: String
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

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", jobID = "job_id", service, repository, number, startedAt = "started_at"
        case durationMs = "duration_ms", outcome, httpStatus = "http_status", errorCode = "error_code"
        case errorClass = "error_class", message, requests, bytesSent = "bytes_sent", waitMs = "wait_ms"
        case waitReason = "wait_reason"
    }

    public init(runID: RunID, jobID: JobID, service: String, repository: String, number: Int, startedAt: String, durationMs: Int, outcome: AttemptOutcome, httpStatus: Int? = nil, errorCode: String? = nil, errorClass: String? = nil, message: String? = nil, requests: Int, bytesSent: Int, waitMs: Int? = nil, waitReason: String? = nil) {
        self.runID = runID
        self.jobID = jobID
        self.service = service
        self.repository = repository
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

/// What one release version did to one repository (`report release V`): the digest its version tag got, and which
/// mutable tags (`latest`) moved to it. `status` is `released`, or the state of the newest job that did not get there.
public struct ReleaseRow: Sendable, Codable, Equatable {
    public var service: String
    public var registry: String
    public var repository: String
    public var version: String
    public var status: String
    public var digest: String?
    public var source: String?
    public var moved: [String]
    public var errorClass: String?
    public var runID: RunID
    public var jobID: JobID

    public init(service: String, registry: String, repository: String, version: String, status: String,
                digest: String?, source: String?, moved: [String], errorClass: String?, runID: RunID, jobID: JobID) {
        (self.service, self.registry, self.repository, self.version, self.status) = (service, registry, repository, version, status)
        (self.digest, self.source, self.moved, self.errorClass, self.runID, self.jobID) = (digest, source, moved, errorClass, runID, jobID)
    }

    enum CodingKeys: String, CodingKey {
        case service, registry, repository, version, status, digest, source, moved
        case errorClass = "error_class", runID = "run_id", jobID = "job_id"
    }
}
