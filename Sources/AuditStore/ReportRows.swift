import Foundation

/// Narrows a report. Every field is optional; `nil` means no restriction.
public struct ReportFilter: Sendable, Equatable {
    /// Runs started at or after this time (ISO-8601 UTC, as stored).
    public var since: String?
    /// Runs started before this time.
    public var until: String?
    public var registry: String?
    /// Repositories under this namespace (`org` matches `org/api` and `org/team/api`).
    public var namespace: String?
    public var service: String?
    /// A run status (`report runs`) or a job status (the other reports).
    public var status: String?
    public var errorClass: String?
    public var runID: RunID?
    /// At most this many rows (the newest); `nil`: all.
    public var limit: Int?

    public init(since: String? = nil, until: String? = nil, registry: String? = nil, namespace: String? = nil,
                service: String? = nil, status: String? = nil, errorClass: String? = nil, runID: RunID? = nil,
                limit: Int? = nil) {
        self.since = since
        self.until = until
        self.registry = registry
        self.namespace = namespace
        self.service = service
        self.status = status
        self.errorClass = errorClass
        self.runID = runID
        self.limit = limit
    }

    /// Turns `2026-11-01`, `2026-11-01T12:00`, `2026-11-01T12:00:00Z`, or an age like `7d`, `12h`, `30m`
    /// (before `now`) into the stored timestamp form. `nil` if it is none of these.
    public static func timestamp(_ text: String, now: Date = Date()) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let unit = trimmed.last, let amount = Double(trimmed.dropLast()), amount >= 0 {
            let seconds: Double? = switch unit {
            case "d": amount * 86_400
            case "h": amount * 3_600
            case "m": amount * 60
            case "s": amount
            default: nil
            }
            if let seconds { return Timestamp.string(now.addingTimeInterval(-seconds)) }
        }
        var candidate = trimmed.replacingOccurrences(of: " ", with: "T")
        if candidate.hasSuffix("Z") { candidate.removeLast() }
        switch candidate.count {
        case 10: candidate += "T00:00:00"
        case 16: candidate += ":00"
        default: break
        }
        if candidate.count == 19 { candidate += ".000" }
        guard let date = Timestamp.date(candidate + "Z") else { return nil }
        return Timestamp.string(date)
    }
}

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
}

/// What one job did to one tag (`report service`).
public struct TagHistoryRow: Sendable, Codable, Equatable {
    public var tag: String
    public var action: TagAction
    public var digestBefore: String?
    public var digestAfter: String?
    public var recordedAt: String

    enum CodingKeys: String, CodingKey {
        case tag, action, digestBefore = "digest_before", digestAfter = "digest_after", recordedAt = "recorded_at"
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

    enum CodingKeys: String, CodingKey {
        case registry, repository, tag, service, digest, action, recordedAt = "recorded_at", runID = "run_id"
        case jobID = "job_id"
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
}
