import Foundation

/// A program the tests start with `posix_spawn`.
///
/// Foundation's `Process.run()` on Linux (Swift 6.3.1) lists /proc/self/fd and copies 256 bytes
/// from each directory entry, which is often longer than the entry. Now and then the copy runs
/// into an unmapped page and the whole test run crashes, serialized launches or not. This type
/// lists nothing: the child closes every descriptor above 2 with
/// `posix_spawn_file_actions_addclosefrom_np`.
public final class SpawnedProcess: @unchecked Sendable {
    public let executable: String
    public let processIdentifier: pid_t
    private let lock = NSLock()
    private var waitStatus: Int32?

    /// Starts `executable`. The three descriptors become the child's 0, 1 and 2, and `nil`
    /// keeps the test process's own. `environment` is added to the test process's environment.
    public init(
        executable: String, arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
        standardInput: Int32? = nil, standardOutput: Int32? = nil, standardError: Int32? = nil
    ) throws {
        self.executable = executable

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (descriptor, target) in [(standardInput, Int32(0)), (standardOutput, 1), (standardError, 2)] {
            if let descriptor { posix_spawn_file_actions_adddup2(&actions, descriptor, target) }
        }
        try SpawnExtensions.shared.closeFrom(&actions, 3)
        if let directory { try SpawnExtensions.shared.changeDirectory(&actions, directory) }

        let fullEnvironment = ProcessInfo.processInfo.environment.merging(environment ?? [:]) { _, new in new }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = fullEnvironment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }

        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else {
            throw TestEnvironmentError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        processIdentifier = pid
    }

    /// Whether the child is still running. Reaps the child once it has ended.
    public var isRunning: Bool {
        lock.withLock {
            guard waitStatus == nil else { return false }
            var status: Int32 = 0
            guard waitpid(processIdentifier, &status, WNOHANG) == processIdentifier else { return true }
            waitStatus = status
            return false
        }
    }

    /// The exit status, or the number of the signal that ended the child, as Foundation's
    /// `Process.terminationStatus` reports it. Call only once `isRunning` is false.
    public var terminationStatus: Int32 {
        lock.withLock {
            guard let status = waitStatus else { preconditionFailure("terminationStatus read while \(executable) runs") }
            let signal = status & 0x7F
            return signal == 0 ? (status >> 8) & 0xFF : signal
        }
    }

    /// Sends `signal` unless the child has already been reaped, whose ID may now be another's.
    public func send(_ signal: Int32) {
        lock.withLock {
            if waitStatus == nil { _ = kill(processIdentifier, signal) }
        }
    }

    /// Blocks the calling thread until the child ends. For short tools only.
    public func waitUntilExit() {
        while isRunning { usleep(2_000) }
    }

    deinit {
        if isRunning { _ = kill(processIdentifier, SIGKILL) }
    }
}

/// The two glibc extensions to `posix_spawn` that Swift's Glibc module does not import, looked up
/// by name once.
private struct SpawnExtensions: Sendable {
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias ChangeDirectory = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    static let shared = SpawnExtensions()

    private let closeFromFunction: CloseFrom?
    private let changeDirectoryFunction: ChangeDirectory?

    private init() {
        let program = dlopen(nil, RTLD_NOW)
        closeFromFunction = dlsym(program, "posix_spawn_file_actions_addclosefrom_np").map { unsafeBitCast($0, to: CloseFrom.self) }
        changeDirectoryFunction = dlsym(program, "posix_spawn_file_actions_addchdir_np").map { unsafeBitCast($0, to: ChangeDirectory.self) }
    }

    func closeFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ lowest: Int32) throws {
        guard let closeFromFunction, closeFromFunction(actions, lowest) == 0 else {
            throw TestEnvironmentError("posix_spawn_file_actions_addclosefrom_np failed or is missing: the tests need glibc 2.34 or later")
        }
    }

    func changeDirectory(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: String) throws {
        guard let changeDirectoryFunction, changeDirectoryFunction(actions, path) == 0 else {
            throw TestEnvironmentError("posix_spawn_file_actions_addchdir_np failed or is missing: the tests need glibc 2.29 or later")
        }
    }
}
