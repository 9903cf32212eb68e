import AuditStore
import Foundation
import NIOCore
import PostgresNIO

/// A value bound to a `$n` parameter.
enum PGValue: Sendable {
    case int(Int64)
    case double(Double)
    case text(String)
    case bytes([UInt8])
    case ints([Int64])
    case texts([String])
    case null

    static func text(_ value: String?) -> PGValue { value.map(PGValue.text) ?? .null }
    static func int(_ value: Int?) -> PGValue { value.map { .int(Int64($0)) } ?? .null }
    static func int(_ value: Int64?) -> PGValue { value.map(PGValue.int) ?? .null }
    static func double(_ value: Double?) -> PGValue { value.map(PGValue.double) ?? .null }
    static func value(_ value: LedgerValue) -> PGValue {
        switch value {
        case .null: .null
        case .integer(let number): .int(number)
        case .real(let number): .double(number)
        case .text(let text): .text(text)
        case .blob(let bytes): .bytes(bytes)
        }
    }
}

/// SQL text and its parameters, built together: ``bind(_:)`` appends a value and returns its `$n`.
struct SQLStatement: Sendable {
    var sql: String
    var values: [PGValue]

    init(_ sql: String = "", _ values: [PGValue] = []) {
        self.sql = sql
        self.values = values
    }

    mutating func bind(_ value: PGValue) -> String {
        values.append(value)
        return "$\(values.count)"
    }

    var query: PostgresQuery {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .int(let number): bindings.append(number)
            case .double(let number): bindings.append(number)
            case .text(let text): bindings.append(text)
            case .bytes(let bytes): bindings.append(ByteBuffer(bytes: bytes))
            case .ints(let numbers): bindings.append(numbers)
            case .texts(let texts): bindings.append(texts)
            case .null: bindings.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }
}

/// One result row, read by position; a column of an unexpected type reads as NULL.
struct PGRow {
    let cells: [PostgresCell]

    init(_ row: PostgresRow) { cells = Array(row) }

    func optionalInt(_ index: Int) -> Int64? {
        let cell = cells[index]
        guard cell.bytes != nil else { return nil }
        switch cell.dataType {
        case .int2: return (try? cell.decode(Int16.self)).map(Int64.init)
        case .int4: return (try? cell.decode(Int32.self)).map(Int64.init)
        case .numeric: return (try? cell.decode(Decimal.self)).map { Int64(truncating: NSDecimalNumber(decimal: $0)) }
        case .bool: return (try? cell.decode(Bool.self)).map { $0 ? 1 : 0 }
        default: return try? cell.decode(Int64.self)
        }
    }

    func int(_ index: Int) -> Int64 { optionalInt(index) ?? 0 }
    func optionalText(_ index: Int) -> String? { cells[index].bytes == nil ? nil : try? cells[index].decode(String.self) }
    func text(_ index: Int) -> String { optionalText(index) ?? "" }
    func double(_ index: Int) -> Double? { cells[index].bytes == nil ? nil : try? cells[index].decode(Double.self) }
    func bytes(_ index: Int) -> [UInt8] {
        guard var buffer = cells[index].bytes == nil ? nil : try? cells[index].decode(ByteBuffer.self) else { return [] }
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }
    func bool(_ index: Int) -> Bool { (try? cells[index].decode(Bool.self)) ?? false }

    /// The cell as the ledger encodes it, by its PostgreSQL type.
    func ledgerValue(_ index: Int) -> LedgerValue {
        let cell = cells[index]
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8, .numeric: return .integer(int(index))
        case .float4, .float8: return double(index).map(LedgerValue.real) ?? .null
        case .bytea: return .blob(bytes(index))
        default: return .text(text(index))
        }
    }

    /// Columns `names` starting at `offset`, as an audited row of `table`.
    func auditedRow(_ table: AuditedTable, names: [String], from offset: Int = 0) -> AuditedRow {
        var values: [String: LedgerValue] = [:]
        for (index, name) in names.enumerated() { values[name] = ledgerValue(offset + index) }
        return AuditedRow(table: table, values: values)
    }
}

extension PostgresConnection {
    /// Runs `statement` and collects its rows.
    func rows(_ statement: SQLStatement, logger: Logger) async throws -> [PGRow] {
        var rows: [PGRow] = []
        for try await row in try await query(statement.query, logger: logger) { rows.append(PGRow(row)) }
        return rows
    }

    func rows(_ sql: String, _ values: [PGValue] = [], logger: Logger) async throws -> [PGRow] {
        try await rows(SQLStatement(sql, values), logger: logger)
    }
}

/// A column name as PostgreSQL needs it (`user` is reserved).
func quoted(_ column: String) -> String { column == "user" ? "\"user\"" : column }
