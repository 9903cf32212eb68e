import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A uniquely named directory under `$TMPDIR` (or `/tmp`), for one test or one fixture.
///
/// Nothing removes it automatically: call `remove()` when done (fixtures do it in `stop()`).
public struct TempDirectory: Sendable, Hashable, CustomStringConvertible {
    /// Absolute path of the directory.
    public let path: String

    /// Creates a fresh, empty directory named `PREFIX-XXXXXX` (mode 0700) under `base` or `TempDirectory.root`.
    public static func create(prefix: String = "stevedore", in base: String? = nil) throws -> TempDirectory {
        let parent = base ?? root
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        var template = Array("\(parent)/\(prefix)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else {
            throw TestSupportError("cannot create a temporary directory in \(parent): \(String(cString: strerror(errno)))")
        }
        return TempDirectory(path: template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
    }

    /// `$TMPDIR` without a trailing slash, or `/tmp` when it is unset or empty.
    public static var root: String {
        var base = ProcessInfo.processInfo.environment["TMPDIR"] ?? ""
        while base.count > 1, base.hasSuffix("/") { base.removeLast() }
        return base.isEmpty ? "/tmp" : base
    }

    public var url: URL { URL(fileURLWithPath: path, isDirectory: true) }

    /// The path of `name` inside the directory (not created).
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Creates a subdirectory (and its parents) and returns its path.
    @discardableResult
    public func makeSubdirectory(_ name: String) throws -> String {
        let sub = file(name)
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        return sub
    }

    /// Writes `text` to `name` inside the directory and returns the file's path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let target = file(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: target))
        return target
    }

    /// Removes the directory and everything in it; a missing directory is not an error.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    public var description: String { path }
}
