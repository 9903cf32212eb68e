import Checksums

/// One ledger entry as stored: which row it records, the row's hash, and its place in both chains.
public struct LedgerEntry: Sendable, Equatable {
    public var id: Int64
    public var runID: Int64
    /// The table's ledger name (``AuditedTable/ledgerNames``).
    public var table: String
    public var rowID: Int64
    public var rowSHA256: [UInt8]
    public var hash: [UInt8]
    public var runHash: [UInt8]
    public var encoding: Int

    public init(id: Int64, runID: Int64, table: String, rowID: Int64, rowSHA256: [UInt8], hash: [UInt8],
                runHash: [UInt8], encoding: Int) {
        self.id = id
        self.runID = runID
        self.table = table
        self.rowID = rowID
        self.rowSHA256 = rowSHA256
        self.hash = hash
        self.runHash = runHash
        self.encoding = encoding
    }
}

/// Where the chain starts after `prune` removed its beginning: the hash of the last removed entry.
public struct LedgerAnchor: Sendable, Equatable {
    public var firstID: Int64
    public var previousHash: [UInt8]

    public init(firstID: Int64, previousHash: [UInt8]) {
        self.firstID = firstID
        self.previousHash = previousHash
    }
}

/// The hashes that chain ledger entries, globally and per run (see docs/SCHEMA.md, "Tamper evidence"):
///
///     entry    = sha256(id ‖ run_id ‖ tbl ‖ 0x00 ‖ row_id ‖ row_sha256 [‖ encoding])   integers big-endian,
///                                                                                  the encoding (4 bytes) from version 2 on
///     hash     = sha256(previous entry's hash ‖ entry)        (32 zero bytes before the first entry)
///     run_hash = sha256(previous run_hash of the same run ‖ entry)
public enum LedgerChain {
    public static let zeroHash = [UInt8](repeating: 0, count: 32)

    public static func entryDigest(id: Int64, runID: Int64, table: String, rowID: Int64, rowSHA256: [UInt8],
                                   encoding: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(72 + table.utf8.count)
        LedgerEncoding.appendBigEndian(UInt64(bitPattern: id), bytes: 8, to: &bytes)
        LedgerEncoding.appendBigEndian(UInt64(bitPattern: runID), bytes: 8, to: &bytes)
        bytes += Array(table.utf8)
        bytes.append(0)
        LedgerEncoding.appendBigEndian(UInt64(bitPattern: rowID), bytes: 8, to: &bytes)
        bytes += rowSHA256
        if encoding >= 2 { LedgerEncoding.appendBigEndian(UInt64(encoding), bytes: 4, to: &bytes) }
        return ContentHasher.sha256(bytes)
    }

    /// sha256(previous ‖ entry).
    public static func chain(_ previous: [UInt8], _ entry: [UInt8]) -> [UInt8] {
        ContentHasher.sha256(previous + entry)
    }

    /// The next entry after `previous` (id and hash) and `runPrevious` (the run's last hash) for `row`.
    public static func next(after previous: (id: Int64, hash: [UInt8]), runPrevious: [UInt8], runID: Int64,
                            row: AuditedRow, encoding: LedgerEncoding) -> LedgerEntry {
        let id = previous.id + 1
        let rowSHA256 = encoding.rowSHA256(row)
        let entry = entryDigest(id: id, runID: runID, table: row.table.rawValue, rowID: row.id, rowSHA256: rowSHA256,
                                encoding: encoding.version)
        return LedgerEntry(id: id, runID: runID, table: row.table.rawValue, rowID: row.id, rowSHA256: rowSHA256,
                           hash: chain(previous.hash, entry), runHash: chain(runPrevious, entry),
                           encoding: encoding.version)
    }
}
