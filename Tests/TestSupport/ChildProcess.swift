import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, its output captured to files.
///
/// Why not Foundation's `Process`: a process started from a Swift Testing thread inherits that thread's
/// blocked signal mask, so SIGTERM and SIGINT would never reach it. Here the child always starts with an
/// empty signal mask and default dispositions for SIGINT, SIGTERM, SIGPIPE, SIGCHLD, SIGHUP and SIGQUIT,
/// and with no file descriptors beyond 0, 1 and 2.
///
/// The environment given is the child's whole environment: nothing is inherited implicitly (use
/// `ChildProcess.inheritedEnvironment()` for PATH, HOME and TMPDIR). A child still running when its
/// `ChildProcess` is released is killed (SIGKILL) and reaped, so a failed test leaves no stray process.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    public let executable: String
    public let arguments: [String]
    /// Files receiving the child's standard output and error.
    public let stdoutPath: String
    public let stderrPath: String
    /// Output files this object created (temporary) and removes when released.
    private let ownedFiles: [String]
    /// The wait status once the child has been reaped; guarded so `kill` never hits a recycled pid.
    private let reaped: Mutex<Int32?>

    private init(pid: pid_t, executable: String, arguments: [String], stdoutPath: String, stderrPath: String,
                 ownedFiles: [String]) {
        self.pid = pid
        self.executable = executable
        self.arguments = arguments
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
        self.ownedFiles = ownedFiles
        self.reaped = Mutex(nil)
    }

    deinit {
        terminateNow()
        for file in ownedFiles { unlink(file) }
    }

    // MARK: Starting

    /// Starts `executable` (an absolute path, or a name looked up on `PATH`) with `arguments`.
    ///
    /// - Parameters:
    ///   - environment: the child's complete environment.
    ///   - stdin: bytes the child reads on standard input; `nil` gives it `/dev/null`.
    ///   - workingDirectory: the child's current directory (default: the caller's).
    ///   - stdoutPath, stderrPath: files (created or truncated) for the output; default: temporary files.
    public static func spawn(executable: String, arguments: [String], environment: [String: String],
                             stdin: [UInt8]? = nil, workingDirectory: String? = nil,
                             stdoutPath: String? = nil, stderrPath: String? = nil) throws -> ChildProcess {
        let path = try resolve(executable, searchPath: environment["PATH"])
        var owned: [String] = []
        var cleanupOnFailure = true
        defer { if cleanupOnFailure { for file in owned { unlink(file) } } }

        let outPath: String
        if let stdoutPath { outPath = stdoutPath } else { outPath = try makeTemporaryFile(suffix: "out"); owned.append(outPath) }
        let errPath: String
        if let stderrPath { errPath = stderrPath } else { errPath = try makeTemporaryFile(suffix: "err"); owned.append(errPath) }
        var inputPath = "/dev/null"
        var inputIsTemporary = false
        if let stdin {
            inputPath = try makeTemporaryFile(suffix: "in", contents: stdin)
            inputIsTemporary = true
        }
        // posix_spawn returns once the child has exec'd (or failed), so its stdin is open by then.
        defer { if inputIsTemporary { unlink(inputPath) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        try check(posix_spawn_file_actions_addopen(&actions, 0, inputPath, O_RDONLY, 0), path, "open stdin")
        try check(posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644), path,
                  "open \(outPath)")
        try check(posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644), path,
                  "open \(errPath)")
        if let closeFrom = GlibcExtras.addCloseFrom {
            try check(closeFrom(&actions, 3), path, "close inherited descriptors")
        }
        if let workingDirectory {
            guard let addChdir = GlibcExtras.addChdir else {
                throw ChildProcessError.spawnFailed(executable: path, reason: "this libc cannot set a child's directory")
            }
            try check(addChdir(&actions, workingDirectory), path, "change directory to \(workingDirectory)")
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGCHLD, SIGHUP, SIGQUIT] { sigaddset(&defaults, signal) }
        try check(posix_spawnattr_setsigmask(&attributes, &emptyMask), path, "set the signal mask")
        try check(posix_spawnattr_setsigdefault(&attributes, &defaults), path, "set default signal actions")
        try check(posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)), path,
                  "set spawn flags")

        let argv = CStringArray([executable] + arguments)
        let envp = CStringArray(environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, &actions, &attributes, argv.pointers, envp.pointers)
        guard status == 0 else {
            throw ChildProcessError.spawnFailed(executable: path, reason: String(cString: strerror(status)))
        }
        cleanupOnFailure = false
        return ChildProcess(pid: pid, executable: path, arguments: arguments, stdoutPath: outPath, stderrPath: errPath,
                            ownedFiles: owned)
    }

    /// Starts a child and waits for it (see `spawn` and `wait`).
    public static func run(executable: String, arguments: [String], environment: [String: String],
                           stdin: [UInt8]? = nil, workingDirectory: String? = nil, stdoutPath: String? = nil,
                           timeout: Duration = .seconds(120)) async throws -> ChildResult {
        let child = try spawn(executable: executable, arguments: arguments, environment: environment, stdin: stdin,
                              workingDirectory: workingDirectory, stdoutPath: stdoutPath)
        return try await child.wait(timeout: timeout)
    }

    /// The variables a child usually needs from this process: PATH, HOME, TMPDIR and the locale, where set.
    public static func inheritedEnvironment(_ names: [String] = ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL"]) -> [String: String] {
        let current = ProcessInfo.processInfo.environment
        var picked: [String: String] = [:]
        for name in names { if let value = current[name] { picked[name] = value } }
        return picked
    }

    /// The absolute path of `name`: itself when it contains a slash, else the first executable match on
    /// `searchPath` (default: this process's PATH), then /usr/local/bin, /usr/bin, /bin, /usr/sbin, /sbin.
    public static func resolve(_ name: String, searchPath: String? = nil) throws -> String {
        if name.contains("/") {
            guard access(name, X_OK) == 0 else { throw ChildProcessError.notFound(name: name) }
            return name
        }
        let path = searchPath ?? ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        for directory in directories where !directory.isEmpty {
            let candidate = "\(directory)/\(name)"
            var info = stat()
            if access(candidate, X_OK) == 0, stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG {
                return candidate
            }
        }
        throw ChildProcessError.notFound(name: name)
    }

    // MARK: Talking to the child

    /// Sends `sig` to the child; does nothing once it has been reaped.
    public func signal(_ sig: Int32) {
        reaped.withLock { status in
            if status == nil { _ = kill(pid, sig) }
        }
    }

    /// Whether the child is still running (reaps it if it has ended).
    public var isRunning: Bool { pollStatus() == nil }

    /// The result if the child has ended, without waiting.
    public func result() -> ChildResult? {
        pollStatus().map(makeResult)
    }

    /// Waits for the child to end, polling every 10 ms (20 ms after the first second).
    /// On timeout the child is killed with SIGKILL and `ChildProcessError.timedOut` is thrown;
    /// if the waiting task is cancelled, the child is killed and `CancellationError` is thrown.
    public func wait(timeout: Duration) async throws -> ChildResult {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + timeout
        while true {
            if let status = pollStatus() { return makeResult(status) }
            let now = clock.now
            if now >= deadline {
                terminateNow()
                throw ChildProcessError.timedOut(executable: executable, arguments: arguments, timeout: timeout,
                                                 partial: makeResult(pollStatus() ?? SIGKILL))
            }
            let interval: Duration = now - start < .seconds(1) ? .milliseconds(10) : .milliseconds(20)
            do {
                try await Task.sleep(for: min(interval, deadline - now))
            } catch {
                terminateNow()
                throw error
            }
        }
    }

    /// What the child has written to standard output until now.
    public func readStdoutSoFar() -> String { Self.read(stdoutPath) }

    /// What the child has written to standard error until now.
    public func readStderrSoFar() -> String { Self.read(stderrPath) }

    // MARK: Internals

    /// Reaps the child if it has ended; returns its raw wait status (nil while it runs).
    private func pollStatus() -> Int32? {
        reaped.withLock { reaped in
            if let reaped { return reaped }
            var status: Int32 = 0
            let answer = waitpid(pid, &status, WNOHANG)
            if answer == pid {
                reaped = status
            } else if answer == -1 && errno == ECHILD {
                // Someone else reaped it: report an unknown end rather than wait forever.
                reaped = 255 << 8
            }
            return reaped
        }
    }

    /// SIGKILL and reap, waiting up to 5 s for the kernel to tear the process down.
    func terminateNow() {
        signal(SIGKILL)
        for _ in 0..<500 {
            if pollStatus() != nil { return }
            usleep(10_000)
        }
    }

    private func makeResult(_ status: Int32) -> ChildResult {
        ChildResult(exitCode: Self.exitCode(status), stdout: readStdoutSoFar(), stderr: readStderrSoFar())
    }

    /// The shell's view of a wait status: the exit code, or 128 + the signal that ended the process.
    static func exitCode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        if signal == 0 { return (status >> 8) & 0xff }
        return 128 + signal
    }

    static func read(_ path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    private static func check(_ result: Int32, _ executable: String, _ step: String) throws {
        guard result == 0 else {
            throw ChildProcessError.spawnFailed(executable: executable, reason: "\(step): \(String(cString: strerror(result)))")
        }
    }

    /// Creates `$TMPDIR/stevedore-child-XXXXXX.SUFFIX` (mode 0600) holding `contents`.
    private static func makeTemporaryFile(suffix: String, contents: [UInt8] = []) throws -> String {
        var template = Array("\(TempDirectory.root)/stevedore-child-XXXXXX.\(suffix)".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, Int32(suffix.utf8.count + 1)) }
        guard fd >= 0 else {
            throw TestSupportError("cannot create a temporary file in \(TempDirectory.root): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var written = 0
        while written < contents.count {
            let count = contents[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                unlink(path)
                throw TestSupportError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            written += count
        }
        return path
    }
}

/// A NULL-terminated array of C strings that lives as long as this value.
private final class CStringArray {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let count: Int

    init(_ strings: [String]) {
        count = strings.count
        pointers = .allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() { pointers[index] = strdup(string) }
        pointers[strings.count] = nil
    }

    deinit {
        for index in 0..<count { free(pointers[index]) }
        pointers.deallocate()
    }
}

/// glibc functions the Swift Glibc module does not import (they are GNU extensions), found at run time.
private enum GlibcExtras {
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// `posix_spawn_file_actions_addchdir_np` (glibc 2.29).
    static let addChdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np").map { unsafeBitCast($0, to: AddChdir.self) }
    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34).
    static let addCloseFrom: AddCloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }

    private static func symbol(_ name: String) -> UnsafeMutableRawPointer? {
        guard let handle = dlopen(nil, RTLD_NOW) else { return nil }
        return dlsym(handle, name)
    }
}
