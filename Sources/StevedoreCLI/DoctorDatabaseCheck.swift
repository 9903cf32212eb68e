import AuditStore
import Doctor
import Foundation

/// `doctor`'s look at the audit database: it opens (read-only, never creating or upgrading it), its schema is one
/// this binary knows, and how big it is. A database that does not exist yet passes when its directory is writable.
struct DoctorDatabaseCheck {
    let database: DatabaseOptions

    func run() async -> DoctorCheck {
        let location = database.displayLocation
        if !database.isPostgres, !FileManager.default.fileExists(atPath: database.path) {
            let directory = Self.existingAncestor(of: (database.path as NSString).deletingLastPathComponent)
            guard FileManager.default.isWritableFile(atPath: directory) else {
                return DoctorCheck("database", location, .fail, "does not exist and \(directory) is not writable",
                                   remedy: "pass --db PATH (or STEVEDORE_DB) in a writable directory")
            }
            return DoctorCheck("database", location, .pass, "none yet: the first run creates it (\(directory) is writable)")
        }
        do {
            let (migrations, latest) = try await database.withReader { store in
                (try await store.appliedMigrations(), try await store.latestRunID())
            }
            var detail = "opens; schema version \(migrations.last?.version ?? 0)"
            detail += latest.map { ", last run #\($0)" } ?? ", no run recorded yet"
            if !database.isPostgres {
                detail += ", " + Self.size(of: database.path)
                if !FileManager.default.isWritableFile(atPath: database.path) {
                    return DoctorCheck("database", location, .fail, detail + "; the file is not writable",
                                       remedy: "fix its permissions, or pass --db PATH to a writable file")
                }
            }
            return DoctorCheck("database", location, .pass, detail)
        } catch let error as AuditStoreError {
            switch error.kind {
            case .olderSchema:
                return DoctorCheck("database", location, .warn, error.description,
                                   remedy: "the next run upgrades it in place (or run stevedore audit upgrade)")
            case .newerSchema:
                return DoctorCheck("database", location, .fail, error.description,
                                   remedy: "use the stevedore release that wrote it, or a newer one")
            default:
                return DoctorCheck("database", location, .fail, error.description,
                                   remedy: "restore it from a backup, or pass --db PATH to start a new log")
            }
        } catch {
            return DoctorCheck("database", location, .fail, "\(error)")
        }
    }

    /// The file and its write-ahead log, e.g. `2.1 MiB (+ 0.3 MiB WAL)`.
    static func size(of path: String) -> String {
        func bytes(_ file: String) -> Double {
            ((try? FileManager.default.attributesOfItem(atPath: file)[.size]) as? NSNumber)?.doubleValue ?? 0
        }
        let mib = { (value: Double) in String(format: "%.1f MiB", value / 1_048_576) }
        let wal = bytes(path + "-wal")
        return mib(bytes(path)) + (wal > 0 ? " (+ \(mib(wal)) WAL)" : "")
    }

    static func existingAncestor(of directory: String) -> String {
        var current = directory.isEmpty ? "." : directory
        while !FileManager.default.fileExists(atPath: current), current != "/" {
            current = (current as NSString).deletingLastPathComponent
            if current.isEmpty { current = "." }
        }
        return current
    }
}
