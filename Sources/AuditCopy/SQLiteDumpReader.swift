import AuditStore
import CSQLite
import Foundation
import PostgresStore
import SQLiteStore

/// Reads a SQLite audit log, read-only and in one read transaction, as an ``AuditDump``.
public enum SQLiteDumpReader {
    /// The dump of the database at `path`, which must be at this stevedore's schema (an older one is refused with
    /// the `audit upgrade` remedy, as reports do).
    public static func read(path: String) throws(AuditStoreError) -> AuditDump {
        try SQLiteAuditStore.openForReading(path: path).stopWithoutFlush()
        var handle: OpaquePointer?
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY, nil) == SQLITE_OK, let handle else {
            sqlite3_close(handle)
            throw AuditStoreError(.cannotOpen, path: path, message: "cannot open it for reading")
        }
        defer { sqlite3_close(handle) }
        try execute(handle, "BEGIN", path: path)
        defer { try? execute(handle, "COMMIT", path: path) }
        var tables: [AuditDump.Table] = []
        for name in AuditDump.tableOrder {
            tables.append(try table(name, handle, path: path))
        }
        return AuditDump(tables: tables)
    }

    private static func table(_ name: String, _ handle: OpaquePointer, path: String) throws(AuditStoreError) -> AuditDump.Table {
        var statement: OpaquePointer?
        // ledger_anchor has no id; every other table is read in id order.
        let order = name == "ledger_anchor" ? "rowid" : name == "item_state" ? "registry, repository, item" : "id"
        guard sqlite3_prepare_v2(handle, "SELECT * FROM \(name) ORDER BY \(order)", -1, &statement, nil) == SQLITE_OK,
              let statement else {
            throw AuditStoreError(.engine(code: "sqlite"), path: path, message: String(cString: sqlite3_errmsg(handle)))
        }
        defer { sqlite3_finalize(statement) }
        let count = sqlite3_column_count(statement)
        let columns = (0..<count).map { String(cString: sqlite3_column_name(statement, $0)) }
        var rows: [[LedgerValue]] = []
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                throw AuditStoreError(.engine(code: "sqlite \(code)"), path: path, message: String(cString: sqlite3_errmsg(handle)))
            }
            rows.append((0..<count).map { value(statement, $0) })
        }
        return AuditDump.Table(name: name, columns: columns, rows: rows)
    }

    private static func value(_ statement: OpaquePointer, _ column: Int32) -> LedgerValue {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_NULL: return .null
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, column))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, column))
            guard count > 0, let pointer = sqlite3_column_blob(statement, column) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: pointer, count: count)))
        default:
            return .text(sqlite3_column_text(statement, column).map { String(cString: $0) } ?? "")
        }
    }

    private static func execute(_ handle: OpaquePointer, _ sql: String, path: String) throws(AuditStoreError) {
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else {
            throw AuditStoreError(.engine(code: "sqlite"), path: path, message: String(cString: sqlite3_errmsg(handle)))
        }
    }
}
