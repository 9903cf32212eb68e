/// Why an image could not be read from its source: the file (or reference) and what is wrong with it, in one
/// lowercase line. Raised before anything is sent; the CLI exits 2.
public struct ImageSourceError: Error, Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let problem: String
    /// The source is a registry that could not be used (unreachable, refused the credentials, rate limited), not a
    /// bad reference: the CLI exits 4 instead of 2.
    public var unavailable = false

    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path) \(problem)" }
}
