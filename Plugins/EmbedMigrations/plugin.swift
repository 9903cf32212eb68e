import Foundation
import PackagePlugin

/// Embeds `<package>/migrations/*.sql` into the target as `EmbeddedMigrations.all`, so the schema's
/// single source of truth is the SQL files and the built binary does not need the source tree.
/// The `PostgresStore` target gets the PostgreSQL dialect kept beside them, `migrations/postgres/*.sql`.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        var directory = context.package.directoryURL.appendingPathComponent("migrations")
        if target.name == "PostgresStore" { directory = directory.appendingPathComponent("postgres") }
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("EmbeddedMigrations.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) migrations",
                executable: try context.tool(named: "MigrationEmbedder").url,
                arguments: [output.path] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output]
            ),
        ]
    }
}
