import Foundation

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
    public var options: String?
    public var status: RunStatus
    public var startedAt: String
    public var finishedAt: String?
    public var parentRunID: RunID?
    public var pid: Int32?

    public init(id: RunID, command: String, commandLine: String, toolVersion: String, host: String, user: String,
                inputFile: String?, inputSHA256: String?, registry: String?, namespace: String?, options: String?,
                status: RunStatus, startedAt: String, finishedAt: String?, parentRunID: RunID?, pid: Int32?) {
        self.id = id
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
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.parentRunID = parentRunID
        self.pid = pid
    }
}

/// A recorded job.
public struct JobRow: Sendable, Codable, Equatable {
    public var id: JobID
    public var runID: RunID
    public var seq: Int
    public var kind: JobKind
    public var service: String
    public var registry: String
    public var repository: String
    public var target: String
    public var items: [String]
    public var status: JobStatus
    public var attempts: Int
    public var errorClass: String?
    public var errorMessage: String?
    public var digest: String?
    public var startedAt: String?
    public var finishedAt: String?
    public var durationMs: Int?
    public var source: String?
    public var sourceDigest: String?

    public init(id: JobID, runID: RunID, seq: Int, kind: JobKind, service: String, registry: String, repository: String,
                target: String, items: [String], status: JobStatus, attempts: Int, errorClass: String?,
                errorMessage: String?, digest: String?, startedAt: String?, finishedAt: String?, durationMs: Int?,
                source: String? = nil, sourceDigest: String? = nil) {
        self.id = id
        self.runID = runID
        self.seq = seq
        self.kind = kind
        self.service = service
        self.registry = registry
        self.repository = repository
        self.target = target
        self.items = items
        self.status = status
        self.attempts = attempts
        self.errorClass = errorClass
        self.errorMessage = errorMessage
        self.digest = digest
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.durationMs = durationMs
        self.source = source
        self.sourceDigest = sourceDigest
    }
}

/// Which recorded run a command continues: the newest one that fits.
public struct RunSelector: Sendable {
    /// Only runs of these statuses (empty: any).
    public var statuses: Set<RunStatus>
    /// Skip runs of these commands.
    public var excludingCommands: Set<String>

    public init(statuses: Set<RunStatus> = [], excludingCommands: Set<String> = []) {
        self.statuses = statuses
        self.excludingCommands = excludingCommands
    }

    public func fits(_ run: RunRow) -> Bool {
        (statuses.isEmpty || statuses.contains(run.status)) && !excludingCommands.contains(run.command)
    }
}
