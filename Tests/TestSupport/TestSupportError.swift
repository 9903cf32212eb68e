/// A failure of a test fixture, with a message meant to be read in a test report.
public struct TestSupportError: Error, CustomStringConvertible, Sendable {
    public let message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
