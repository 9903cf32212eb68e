import AuditStore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one thread that uses a store's SQLite connection, so no thread of Swift's cooperative pool ever waits
/// for SQLite: async callers queue work and are resumed when it is done.
///
/// Group commit: every write queued while the thread was busy is committed in one `BEGIN IMMEDIATE ... COMMIT`,
/// each in its own savepoint (one failing write leaves the others), so the number of commits falls as the number
/// of concurrent writers grows and nobody is resumed before their rows are committed. Deferred writes do not wait:
/// they ride along with the next commit, which the thread starts itself once ``deferredBatch`` of them wait or
/// the oldest has waited ``linger``. Reads run after the writes queued before them, so they see them.
final class WriterThread: @unchecked Sendable {
    typealias Write = (Connection, LedgerWriter) throws(AuditStoreError) -> Void

    private final class Ticket {
        let work: Write
        let deferred: Bool
        let done: ((AuditStoreError?) -> Void)?

        init(deferred: Bool, work: @escaping Write, done: ((AuditStoreError?) -> Void)?) {
            self.work = work
            self.deferred = deferred
            self.done = done
        }
    }

    /// How long deferred work may wait for company, and how much may wait.
    static let linger: UInt64 = 100_000_000
    static let deferredBatch = 32

    let connection: Connection
    let ledger: LedgerWriter
    private let condition = NSCondition()
    private var writes: [Ticket] = []
    private var reads: [(Connection) -> Void] = []
    private var oldestDeferred: UInt64?
    private var stopping = false
    private var finished = false
    private var loopThread: pthread_t?
    private var firstDeferredError: AuditStoreError?
    private var writeNanoseconds: UInt64 = 0
    private var writeCPUNanoseconds: UInt64 = 0
    private let now: @Sendable () -> Date

    init(connection: Connection, encodings: LedgerEncodings, now: @escaping @Sendable () -> Date) {
        self.connection = connection
        self.ledger = LedgerWriter(connection: connection, encodings: encodings)
        self.now = now
        let thread = Thread { [self] in loop() }
        thread.name = "stevedore-audit"
        thread.start()
    }

    // MARK: Queueing

    /// Runs `body` in the next write transaction; returns once it is committed (or throws its error).
    func write<T: Sendable>(_ body: @escaping (Connection, LedgerWriter) throws(AuditStoreError) -> T) async throws(AuditStoreError) -> T {
        let result: Result<T, AuditStoreError> = await withCheckedContinuation { continuation in
            var value: T?
            enqueue(Ticket(deferred: false, work: { connection, ledger throws(AuditStoreError) in
                value = try body(connection, ledger)
            }, done: { error in
                continuation.resume(returning: error.map { .failure($0) } ?? .success(value!))
            }))
        }
        return try result.get()
    }

    /// Queues `body` for a coming commit and returns at once; its error, if any, is kept for ``flush()``.
    func writeDeferred(_ body: @escaping Write) {
        enqueue(Ticket(deferred: true, work: body, done: nil))
    }

    /// Runs `body` on the thread after the writes queued before it.
    func read<T: Sendable>(_ body: @escaping (Connection) throws(AuditStoreError) -> T) async throws(AuditStoreError) -> T {
        let result: Result<T, AuditStoreError> = await withCheckedContinuation { continuation in
            let work: (Connection) -> Void = { connection in
                do throws(AuditStoreError) {
                    continuation.resume(returning: .success(try body(connection)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            condition.lock()
            if finished {
                condition.unlock()
                let path = connection.path
                continuation.resume(returning: .failure(AuditStoreError(.cannotOpen, path: path, message: "the audit store is closed")))
                return
            }
            reads.append(work)
            condition.signal()
            condition.unlock()
        }
        return try result.get()
    }

    /// Commits the deferred writes now; returns the first error a deferred write met, if any.
    func flush() async -> AuditStoreError? {
        _ = try? await write { _, _ throws(AuditStoreError) in }
        return deferredError
    }

    /// The first error of a deferred write, if any.
    var deferredError: AuditStoreError? {
        condition.lock()
        defer { condition.unlock() }
        return firstDeferredError
    }

    /// Milliseconds spent in write transactions: wall clock and CPU of this thread.
    var writeMilliseconds: (wall: Int, cpu: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (Int(writeNanoseconds / 1_000_000), Int(writeCPUNanoseconds / 1_000_000))
    }

    /// The same, read on the writer thread itself while it runs a write (the counters are only changed there).
    var writeMillisecondsUnlocked: (wall: Int, cpu: Int) {
        (Int(writeNanoseconds / 1_000_000), Int(writeCPUNanoseconds / 1_000_000))
    }

    /// Commits what is queued and ends the thread; blocks until it has (for `close()` and `deinit`), unless called
    /// on the thread itself (a store released by its last piece of work), which then ends after this piece.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        let onLoopThread = loopThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
        while !finished && !onLoopThread { condition.wait() }
        condition.unlock()
    }

    private func enqueue(_ ticket: Ticket) {
        condition.lock()
        if ticket.deferred, oldestDeferred == nil { oldestDeferred = DispatchTime.now().uptimeNanoseconds }
        writes.append(ticket)
        condition.signal()
        condition.unlock()
    }

    // MARK: The thread

    private func loop() {
        condition.lock()
        loopThread = pthread_self()
        condition.unlock()
        while true {
            condition.lock()
            while !readyToRun() { waitForWork() }
            let batch = writes, queuedReads = reads
            writes.removeAll(keepingCapacity: true)
            reads.removeAll(keepingCapacity: true)
            oldestDeferred = nil
            let exiting = stopping && batch.isEmpty && queuedReads.isEmpty
            condition.unlock()
            if exiting { break }
            if !batch.isEmpty { commit(batch) }
            for read in queuedReads { read(connection) }
        }
        connection.close()
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Whether there is work to do now (called with the lock held).
    private func readyToRun() -> Bool {
        if stopping || !reads.isEmpty { return true }
        if writes.contains(where: { !$0.deferred }) { return true }
        guard let oldest = oldestDeferred, !writes.isEmpty else { return false }
        return writes.count >= Self.deferredBatch || DispatchTime.now().uptimeNanoseconds >= oldest + Self.linger
    }

    /// Waits for a signal, or until the oldest deferred write's linger is over (called with the lock held).
    private func waitForWork() {
        guard let oldest = oldestDeferred else { return condition.wait() }
        let remaining = Double(oldest + Self.linger &- DispatchTime.now().uptimeNanoseconds) / 1e9
        _ = condition.wait(until: Date(timeIntervalSinceNow: max(0.000_5, min(remaining, 0.05))))
    }

    private func commit(_ batch: [Ticket]) {
        let start = DispatchTime.now().uptimeNanoseconds, cpuStart = Self.threadCPUNanoseconds()
        let errors = run(batch)
        let wall = DispatchTime.now().uptimeNanoseconds - start, cpu = Self.threadCPUNanoseconds() &- cpuStart
        condition.lock()
        writeNanoseconds += wall
        writeCPUNanoseconds += cpu
        for (ticket, error) in zip(batch, errors) where ticket.deferred {
            if let error, firstDeferredError == nil { firstDeferredError = error }
        }
        condition.unlock()
        for (ticket, error) in zip(batch, errors) { ticket.done?(error) }
    }

    /// Runs a batch in one transaction, each ticket in a savepoint; returns each ticket's error.
    private func run(_ batch: [Ticket]) -> [AuditStoreError?] {
        var errors = [AuditStoreError?](repeating: nil, count: batch.count)
        do throws(AuditStoreError) {
            try connection.execute("BEGIN IMMEDIATE")
            try ledger.begin(at: Timestamp.string(now()))
        } catch {
            try? connection.execute("ROLLBACK")
            ledger.forget()
            return errors.map { _ in error }
        }
        let alone = batch.count == 1
        for (index, ticket) in batch.enumerated() {
            do throws(AuditStoreError) {
                if !alone { try connection.execute("SAVEPOINT audit_write") }
                try ticket.work(connection, ledger)
                if !alone { try connection.execute("RELEASE audit_write") }
            } catch {
                if alone {
                    try? connection.execute("ROLLBACK")
                    ledger.forget()
                    return [error]
                }
                try? connection.execute("ROLLBACK TO audit_write; RELEASE audit_write")
                ledger.forget()
                errors[index] = error
            }
        }
        do throws(AuditStoreError) {
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            ledger.forget()
            for index in errors.indices where errors[index] == nil { errors[index] = error }
        }
        return errors
    }

    private static func threadCPUNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
