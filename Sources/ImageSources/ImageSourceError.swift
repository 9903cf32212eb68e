/// Why an image could not be read from its source: the file (or reference) and what is wrong with it, in one
/// lowercase line. Raised before anything is sent; the CLI exits 2.
public struct ImageSourceError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let problem: String

    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path) \(problem)" }
}
