import Foundation

/// A program the tests start: its standard input stays open until `closeInput()`, and its
/// output is collected. Used for the test SMTP server and for `trigger-email` itself.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let errorOutput = Pipe()
    private let lock = NSLock()
    private var collectedOutput = Data()
    private var collectedErrors = Data()
    private var outputEnded = false
    private var errorsEnded = false

    public init(executable: String, arguments: [String], environment: [String: String]? = nil, directory: URL? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        if let directory {
            process.currentDirectoryURL = directory
        }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errorOutput

        // An empty read means end of file: the child has closed that pipe.
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.lock.withLock {
                if data.isEmpty { self?.outputEnded = true }
                self?.collectedOutput.append(data)
            }
            if data.isEmpty { handle.readabilityHandler = nil }
        }
        errorOutput.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            self?.lock.withLock {
                if data.isEmpty { self?.errorsEnded = true }
                self?.collectedErrors.append(data)
            }
            if data.isEmpty { handle.readabilityHandler = nil }
        }
        try process.run()
    }

    public var standardOutput: String {
        lock.withLock { String(decoding: collectedOutput, as: UTF8.self) }
    }

    public var standardError: String {
        lock.withLock { String(decoding: collectedErrors, as: UTF8.self) }
    }

    public func write(_ text: String) {
        input.fileHandleForWriting.write(Data(text.utf8))
    }

    /// Writes `data` to standard input and closes it, from another thread, so that a large input
    /// cannot block the caller while the child waits for its output to be read.
    public func writeAndCloseInput(_ data: Data) {
        let handle = input.fileHandleForWriting
        let thread = Thread {
            handle.write(data)
            try? handle.close()
        }
        thread.start()
    }

    public func closeInput() {
        try? input.fileHandleForWriting.close()
    }

    /// Waits until standard output holds a full line, and returns the first one.
    public func firstOutputLine(timeout: Duration) async throws -> String {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            let text = standardOutput
            if let newline = text.firstIndex(of: "\n") {
                return String(text[..<newline])
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestEnvironmentError("\(process.executableURL!.lastPathComponent) printed no line within \(timeout); its errors: \(standardError)")
    }

    /// Waits until `condition` holds for the error output (where logs go), or fails.
    public func waitForErrorOutput(timeout: Duration, _ condition: (String) -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if condition(standardError) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestEnvironmentError("the expected log line did not appear within \(timeout); the log was:\n\(standardError)")
    }

    /// Waits for the process to end, up to `timeout`, and returns its exit status.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                throw TestEnvironmentError("\(process.executableURL!.lastPathComponent) did not exit within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        // Wait until both pipes reach end of file, so no output is lost; a grandchild that keeps
        // a pipe open only delays this by the bounded wait.
        let drainDeadline = ContinuousClock.now.advanced(by: .seconds(5))
        while !lock.withLock({ outputEnded && errorsEnded }), ContinuousClock.now < drainDeadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        return process.terminationStatus
    }

    public func terminate() {
        if process.isRunning { process.terminate() }
    }

    public func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
    }

    deinit {
        closeInput()
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        output.fileHandleForReading.readabilityHandler = nil
        errorOutput.fileHandleForReading.readabilityHandler = nil
    }
}
