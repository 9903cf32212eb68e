import ArgumentParser
import Foundation
import Workflows

/// Parses the command line and maps every way a command can end to a documented exit status.
/// ArgumentParser exits 64 on usage errors by default; Stevedore promises 2.
@main
enum EntryPoint {
    static func main() async {
        let console = Console()
        var command: ParsableCommand
        do {
            command = try Stevedore.parseAsRoot()
            if !(command is any StevedoreCommand) {
                // Help, version and command groups: ArgumentParser's own commands.
                try command.run()
                exit(0)
            }
        } catch {
            usageExit(error, console: console)
        }
        guard let command = command as? any StevedoreCommand else { exit(0) }
        let task = Task { [command] in
            var command = command
            return try await command.execute(console: console)
        }
        let interrupts = InterruptHandler(console: console) { task.cancel() }
        let result = await task.result
        withExtendedLifetime(interrupts) {}
        switch result {
        case .success(let status):
            exit(status.rawValue)
        case .failure(let error as ServicesFileError):
            console.error(error.description)
            exit(ExitStatus.usage.rawValue)
        case .failure(WorkflowError.input(let error)):
            console.error(error.description)
            exit(ExitStatus.usage.rawValue)
        case .failure(let error):
            let (status, message) = ExitStatus.of(error)
            console.error("error: \(message)")
            exit(status.rawValue)
        }
    }
}

/// Prints ArgumentParser's message for `error` and exits: 0 for help and version, else 2 (usage).
func usageExit(_ error: any Error, console: Console) -> Never {
    let message = Stevedore.fullMessage(for: error)
    if Stevedore.exitCode(for: error) == .success {
        console.output(message)
        exit(0)
    }
    console.error(message)
    exit(ExitStatus.usage.rawValue)
}

/// A subcommand that returns a documented exit status.
protocol StevedoreCommand: ParsableCommand, Sendable {
    mutating func execute(console: Console) async throws -> ExitStatus
}

extension StevedoreCommand {
    mutating func run() throws {
        throw CleanExit.message("internal: run through the entry point")
    }
}

struct Stevedore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stevedore",
        abstract: "Publish container images and Maven artifacts for many services at once, with a tamper-evident audit log.",
        discussion: """
            Exit codes: 0 every job succeeded or was skipped; 1 a job failed (audit verify: the log was altered); \
            2 bad usage or input \
            (nothing sent); 3 audit database unusable; 4 registry unreachable or credentials refused; \
            130 interrupted.
            """,
        version: BuildInfo.versionLine,
        subcommands: [ProvisionCommand.self, PushCommand.self, CopyCommand.self, VerifyCommand.self, RetryCommand.self, ResumeCommand.self, WorkerCommand.self, MavenCommand.self, ReportCommand.self,
                      AuditCommand.self, PruneCommand.self, LoginCommand.self, DoctorCommand.self]
    )
}
