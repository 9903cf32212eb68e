/// An `AsyncSequence` over jobs already in memory (or produced lazily by any `Sequence`).
public struct AsyncJobs<Base: Sequence & Sendable>: AsyncSequence, Sendable where Base.Element: Sendable {
    public typealias Element = Base.Element
    private let base: Base

    public init(_ base: Base) {
        self.base = base
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var iterator: Base.Iterator

        public mutating func next() async -> Element? {
            iterator.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(iterator: base.makeIterator())
    }
}
