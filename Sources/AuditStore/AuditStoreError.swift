import CSQLite

/// Why the audit database could not be used. Descriptions are one line and name the remedy.
public struct AuditStoreError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The file or its directory cannot be opened or created.
        case cannotOpen
        /// The file is not a SQLite database, or it is corrupt.
        case notADatabase
        /// The database was written by a newer stevedore.
        case newerSchema
        /// An applied migration differs from the one this binary carries.
        case migrationChanged
        /// Any other SQLite failure.
        case sqlite(code: Int32)
    }

    public let kind: Kind
    public let path: String
    public let message: String

    public init(_ kind: Kind, path: String, message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var description: String {
        switch kind {
        case .cannotOpen:
            return "cannot open the audit database \(path): \(message); check the path and its permissions or pass --db PATH"
        case .notADatabase:
            return "audit database \(path) is not a sqlite database or is corrupt; move it aside or pass --db PATH (nothing was written)"
        case .newerSchema:
            return "audit database \(path) was written by a newer stevedore (\(message)); upgrade stevedore"
        case .migrationChanged:
            return "audit database \(path): \(message); the migrations/ files must never change once released"
        case .sqlite(let code):
            return "audit database \(path): sqlite error \(code): \(message)"
        }
    }

    /// Maps a SQLite result code to the error kind users can act on.
    static func from(code: Int32, message: String, path: String) -> AuditStoreError {
        switch code & 0xff {
        case SQLITE_NOTADB, SQLITE_CORRUPT: return AuditStoreError(.notADatabase, path: path, message: message)
        case SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_READONLY: return AuditStoreError(.cannotOpen, path: path, message: message)
        default: return AuditStoreError(.sqlite(code: code), path: path, message: message)
        }
    }
}
