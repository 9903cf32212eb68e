/// Why the audit log could not be used. Descriptions are one line and name the remedy; the CLI maps every
/// kind to exit 3.
public struct AuditStoreError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The file or its directory cannot be opened or created, or the server cannot be reached.
        case cannotOpen
        /// A log that must already exist (reports, verify, prune) does not.
        case missing
        /// The file is not a SQLite database, or it is corrupt.
        case notADatabase
        /// The database was written by a newer stevedore.
        case newerSchema
        /// The database needs this stevedore's migrations, and was opened for reading only.
        case olderSchema
        /// An applied migration differs from the one this binary carries.
        case migrationChanged
        /// The database server refused the credentials.
        case authFailed
        /// Any other failure of the database engine, with its code (SQLite result code or SQLSTATE).
        case engine(code: String)
    }

    public let kind: Kind
    /// The file path, or the server URL without its password.
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
        case .missing:
            return "no audit database at \(path); pass --db PATH or set STEVEDORE_DB (reports never create one)"
        case .notADatabase:
            return "audit database \(path) is not a sqlite database or is corrupt; move it aside or pass --db PATH (nothing was written)"
        case .newerSchema:
            return "audit database \(path) was written by a newer stevedore (\(message)); upgrade stevedore"
        case .olderSchema:
            return "audit database \(path) was written by an older stevedore and reports never write; upgrade it once "
                + "with stevedore audit upgrade --db \(path) (its ledger keeps verifying)"
        case .migrationChanged:
            return "audit database \(path): \(message); the migrations/ files must never change once released"
        case .authFailed:
            return "audit database \(path) refused the credentials (\(message)); check the user and PGPASSWORD or ~/.pgpass"
        case .engine(let code):
            return "audit database \(path): error \(code): \(message)"
        }
    }
}
