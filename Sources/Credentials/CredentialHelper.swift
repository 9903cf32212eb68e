import Foundation

/// Runs a docker credential helper (`docker-credential-NAME get|store`) found on PATH.
///
/// Protocol: https://github.com/docker/docker-credential-helpers — `get` reads the server URL on
/// stdin and prints `{"ServerURL","Username","Secret"}`; `store` reads that JSON on stdin.
public struct CredentialHelper: Sendable {
    public let name: String
    let environment: [String: String]

    public init(name: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.name = name
        self.environment = environment
    }

    var executableName: String { "docker-credential-\(name)" }

    /// The credentials the helper holds for `registry`; nil when it has none.
    public func get(_ registry: String) throws(CredentialsError) -> Credentials? {
        let result = try run(["get"], input: Data(registry.utf8))
        if result.status != 0 {
            let message = String(decoding: result.stdout + result.stderr, as: UTF8.self).lowercased()
            if message.contains("credentials not found") { return nil }
            throw CredentialsError("credential helper \(executableName) failed for \(registry) (exit \(result.status)); "
                               + "check it with: echo \(registry) | \(executableName) get")
        }
        guard let object = try? JSONSerialization.jsonObject(with: result.stdout) as? [String: Any],
              let username = object["Username"] as? String, let secret = object["Secret"] as? String else {
            throw CredentialsError("credential helper \(executableName) answered something that is not "
                               + "{\"Username\",\"Secret\"} json")
        }
        return Credentials(username: username, secret: secret)
    }

    /// Stores credentials for `registry` in the helper.
    public func store(_ credentials: Credentials, for registry: String) throws(CredentialsError) {
        let payload: [String: String] = ["ServerURL": registry, "Username": credentials.username,
                                         "Secret": credentials.secret]
        let input = (try? JSONSerialization.data(withJSONObject: payload)) ?? Data()
        let result = try run(["store"], input: input)
        guard result.status == 0 else {
            throw CredentialsError("credential helper \(executableName) could not store the credentials "
                               + "(exit \(result.status))")
        }
    }

    private func run(_ arguments: [String], input: Data) throws(CredentialsError) -> (status: Int32, stdout: Data, stderr: Data) {
        guard let executable = Self.find(executableName, path: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin") else {
            throw CredentialsError("the docker config names credential helper '\(name)', but \(executableName) "
                               + "is not on PATH; install it or remove it from the docker config")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do {
            try process.run()
        } catch {
            throw CredentialsError("cannot run \(executable): \(error)")
        }
        stdin.fileHandleForWriting.write(input)
        try? stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, out, err)
    }

    static func find(_ name: String, path: String) -> String? {
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
