import Foundation

/// Group commit: concurrent writers share one SQLite transaction.
///
/// A writer queues its work and waits. The first waiting writer becomes the leader: it takes every queued
/// piece of work, runs each in its own savepoint inside one `BEGIN IMMEDIATE ... COMMIT`, and wakes the
/// writers when the commit is done. While a leader commits, new work queues up for the next batch, so the
/// number of commits (and of WAL pages written: consecutive rows share the same b-tree leaves) falls as the
/// number of concurrent writers grows, and nobody returns before their rows are committed.
///
/// Deferred work (``submitDeferred(_:commit:)``) does not wait: it rides along with the next batch, which a
/// deferred writer starts itself once enough deferred work waits or the oldest has waited ``linger``, and
/// which any waiting writer starts at once.
final class GroupCommit: @unchecked Sendable {
    /// One writer's work. The leader drops `work` as soon as it ran, before the writer is woken: the closure
    /// is the writer's non-escaping body (`withoutActuallyEscaping`) and must not outlive its call.
    final class Ticket: @unchecked Sendable {
        private var work: ((Connection, Ledger, String) throws(AuditStoreError) -> Void)?
        var error: AuditStoreError?
        var done = false
        /// Queued by a writer that does not wait (its error is kept in ``GroupCommit/deferredError``).
        let deferred: Bool

        init(deferred: Bool = false, _ work: @escaping (Connection, Ledger, String) throws(AuditStoreError) -> Void) {
            self.deferred = deferred
            self.work = work
        }

        func run(_ connection: Connection, _ ledger: Ledger, _ now: String) throws(AuditStoreError) {
            defer { work = nil }
            try work?(connection, ledger, now)
        }

        /// For a ticket whose transaction could not even begin.
        func drop() { work = nil }
    }

    private let condition = NSCondition()
    private var queue: [Ticket] = []
    private var leading = false
    private var oldestDeferred: UInt64?
    private var firstDeferredError: AuditStoreError?

    /// How long deferred work may wait for company before its writer commits it, and how much may wait.
    static let linger: UInt64 = 20_000_000
    static let deferredBatch = 8

    /// The first error of a deferred write, if any.
    var deferredError: AuditStoreError? {
        condition.lock()
        defer { condition.unlock() }
        return firstDeferredError
    }

    /// Queues deferred work and returns; commits the queue now (in this thread) if enough deferred work waits
    /// or the oldest has waited ``linger``.
    func submitDeferred(_ ticket: Ticket, commit: ([Ticket]) -> Void) {
        condition.lock()
        // Read under the lock: another writer may have set `oldestDeferred` after this one read a clock.
        let now = DispatchTime.now().uptimeNanoseconds
        queue.append(ticket)
        let oldest = oldestDeferred ?? now
        if oldestDeferred == nil { oldestDeferred = now }
        let waiting = queue.count(where: \.deferred)
        guard !leading, waiting >= Self.deferredBatch || now >= oldest + Self.linger else {
            condition.unlock()
            return
        }
        lead(commit)
        condition.unlock()
    }

    /// Commits whatever is queued (deferred work) and waits for it.
    func flush(commit: ([Ticket]) -> Void) {
        condition.lock()
        while leading { condition.wait() }
        if !queue.isEmpty { lead(commit) }
        condition.unlock()
    }

    /// Takes the queue and commits it; called and returns with `condition` locked.
    private func lead(_ commit: ([Ticket]) -> Void) {
        leading = true
        let batch = queue
        queue.removeAll(keepingCapacity: true)
        oldestDeferred = nil
        condition.unlock()
        commit(batch)
        condition.lock()
        for done in batch {
            done.done = true
            if done.deferred, let error = done.error, firstDeferredError == nil { firstDeferredError = error }
        }
        leading = false
        condition.broadcast()
    }

    /// Queues `work` and returns once the transaction holding it committed (or rethrows its error).
    /// `commit` runs a batch: it is called by one writer at a time.
    func submit(_ ticket: Ticket, commit: ([Ticket]) -> Void) throws(AuditStoreError) {
        condition.lock()
        queue.append(ticket)
        while !ticket.done {
            if leading {
                condition.wait()
                continue
            }
            lead(commit)
        }
        condition.unlock()
        if let error = ticket.error { throw error }
    }

    /// Runs a batch in one transaction, each ticket in a savepoint so one failing write leaves the others.
    static func run(_ batch: [Ticket], on connection: Connection, now: String) {
        let ledger = Ledger(connection: connection)
        if batch.count == 1, let ticket = batch.first {
            defer { ticket.drop() }
            do throws(AuditStoreError) {
                try connection.transaction { () throws(AuditStoreError) in try ticket.run(connection, ledger, now) }
            } catch {
                ticket.error = error
            }
            return
        }
        do {
            try connection.execute("BEGIN IMMEDIATE")
        } catch {
            for ticket in batch {
                ticket.error = error
                ticket.drop()
            }
            return
        }
        for ticket in batch {
            defer { ticket.drop() }
            do throws(AuditStoreError) {
                try connection.execute("SAVEPOINT audit_write")
                try ticket.run(connection, ledger, now)
                try connection.execute("RELEASE audit_write")
            } catch {
                try? connection.execute("ROLLBACK TO audit_write; RELEASE audit_write")
                ledger.forget()
                ticket.error = error
            }
        }
        do {
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            for ticket in batch where ticket.error == nil { ticket.error = error }
        }
    }
}
