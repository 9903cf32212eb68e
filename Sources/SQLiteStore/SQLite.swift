import AuditStore
import CSQLite
import Foundation

/// `SQLITE_TRANSIENT` is a macro Swift does not import: it tells SQLite to copy bound values.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A value bound to a statement parameter.
enum SQLValue {
    case int(Int64)
    case double(Double)
    case text(String)
    case blob(Data)
    case null

    static func text(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }
    static func int(_ value: Int?) -> SQLValue { value.map { .int(Int64($0)) } ?? .null }
    static func int(_ value: Int64?) -> SQLValue { value.map(SQLValue.int) ?? .null }
    static func double(_ value: Double?) -> SQLValue { value.map(SQLValue.double) ?? .null }
}

/// One SQLite connection with a cache of prepared statements. Not thread-safe: the store's ``WriterThread`` is
/// the only thread that uses it.
final class Connection {
    let path: String
    private let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]
    private var closed = false

    init(path: String, readOnly: Bool) throws(AuditStoreError) {
        self.path = path
        var handle: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let code = sqlite3_open_v2(path, &handle, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard code == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw SQLiteErrors.error(code: code, message: message, path: path)
        }
        self.handle = handle
        sqlite3_busy_timeout(handle, 5000)
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit { close() }

    /// Finalizes the statements and closes the handle (the last writer's close checkpoints and removes the WAL).
    /// Called when the store's thread ends, so a process that exits with the store still referenced leaves a clean
    /// database; the connection is not used afterwards.
    func close() {
        guard !closed else { return }
        closed = true
        for statement in statements.values { sqlite3_finalize(statement) }
        statements = [:]
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements without parameters or results.
    func execute(_ sql: String) throws(AuditStoreError) {
        var error: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &error)
        guard code == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(error)
            throw SQLiteErrors.error(code: code, message: message, path: path)
        }
    }

    /// Runs a statement with parameters; returns the number of rows changed.
    @discardableResult
    func run(_ sql: String, _ values: [SQLValue] = []) throws(AuditStoreError) -> Int {
        let statement = try prepare(sql, values)
        defer { sqlite3_reset(statement) }
        let code = sqlite3_step(statement)
        guard code == SQLITE_DONE || code == SQLITE_ROW else { throw failure(code) }
        return Int(sqlite3_changes(handle))
    }

    /// Runs a query and maps each row.
    func query<T>(_ sql: String, _ values: [SQLValue] = [], _ map: (Row) throws -> T) throws(AuditStoreError) -> [T] {
        let statement = try prepare(sql, values)
        defer { sqlite3_reset(statement) }
        var rows: [T] = []
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else { throw failure(code) }
            do {
                rows.append(try map(Row(statement: statement)))
            } catch let error as AuditStoreError {
                throw error
            } catch {
                throw AuditStoreError(.engine(code: "sqlite \(SQLITE_MISMATCH)"), path: path, message: "\(error)")
            }
        }
        return rows
    }

    /// Runs a query and hands each row to `body` without collecting them (for large scans).
    func each(_ sql: String, _ values: [SQLValue] = [], _ body: (Row) throws(AuditStoreError) -> Void) throws(AuditStoreError) {
        let statement = try prepare(sql, values)
        defer { sqlite3_reset(statement) }
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else { throw failure(code) }
            try body(Row(statement: statement))
        }
    }

    var lastInsertID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs `body` in a transaction (`BEGIN IMMEDIATE`), committing on success and rolling back on error.
    func transaction<T>(_ body: () throws(AuditStoreError) -> T) throws(AuditStoreError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    private func prepare(_ sql: String, _ values: [SQLValue]) throws(AuditStoreError) -> OpaquePointer {
        let statement: OpaquePointer
        if let cached = statements[sql] {
            statement = cached
        } else {
            var prepared: OpaquePointer?
            let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
            guard code == SQLITE_OK, let prepared else { throw failure(code) }
            statements[sql] = prepared
            statement = prepared
        }
        sqlite3_clear_bindings(statement)
        for (index, value) in values.enumerated() {
            let position = Int32(index + 1)
            let code: Int32 = switch value {
            case .int(let number): sqlite3_bind_int64(statement, position, number)
            case .double(let number): sqlite3_bind_double(statement, position, number)
            case .text(let text): sqlite3_bind_text(statement, position, text, -1, transient)
            case .blob(let data):
                data.withUnsafeBytes { sqlite3_bind_blob(statement, position, $0.baseAddress, Int32($0.count), transient) }
            case .null: sqlite3_bind_null(statement, position)
            }
            guard code == SQLITE_OK else { throw failure(code) }
        }
        return statement
    }

    private func failure(_ code: Int32) -> AuditStoreError {
        SQLiteErrors.error(code: code, message: String(cString: sqlite3_errmsg(handle)), path: path)
    }
}

/// The current row of a query.
struct Row {
    let statement: OpaquePointer

    func int(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
    func double(_ column: Int32) -> Double? { isNull(column) ? nil : sqlite3_column_double(statement, column) }
    func optionalInt(_ column: Int32) -> Int64? { isNull(column) ? nil : sqlite3_column_int64(statement, column) }
    func text(_ column: Int32) -> String { optionalText(column) ?? "" }
    func optionalText(_ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(statement, column) else { return nil }
        return String(cString: pointer)
    }
    func blob(_ column: Int32) -> Data {
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let pointer = sqlite3_column_blob(statement, column) else { return Data() }
        return Data(bytes: pointer, count: count)
    }
    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }

    /// The value of `column` in its storage class, as the ledger encodes it.
    func ledgerValue(_ column: Int32) -> LedgerValue {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_NULL: .null
        case SQLITE_INTEGER: .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT: .real(sqlite3_column_double(statement, column))
        case SQLITE_BLOB: .blob([UInt8](blob(column)))
        default: .text(text(column))
        }
    }

    /// Columns `first..<first + names.count` as an audited row of `table`.
    func auditedRow(_ table: AuditedTable, names: [String], from first: Int32 = 0) -> AuditedRow {
        var values: [String: LedgerValue] = [:]
        values.reserveCapacity(names.count)
        for (index, name) in names.enumerated() { values[name] = ledgerValue(first + Int32(index)) }
        return AuditedRow(table: table, values: values)
    }
}

/// SQLite result codes as the audit store's errors users can act on.
enum SQLiteErrors {
    static func error(code: Int32, message: String, path: String) -> AuditStoreError {
        switch code & 0xff {
        case SQLITE_NOTADB, SQLITE_CORRUPT: AuditStoreError(.notADatabase, path: path, message: message)
        case SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_READONLY: AuditStoreError(.cannotOpen, path: path, message: message)
        default: AuditStoreError(.engine(code: "sqlite \(code)"), path: path, message: message)
        }
    }
}
