/// Why credentials could not be read or stored. One lowercase line naming the file or helper and the remedy.
public struct CredentialsError: Error, Sendable, CustomStringConvertible, Equatable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
