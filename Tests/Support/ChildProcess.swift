import Foundation

/// A program the tests start: its standard input stays open until `closeInput()`, and its
/// output is collected. Used for the test SMTP server and for `trigger-email` itself.
public final class ChildProcess: @unchecked Sendable {
    public let process: SpawnedProcess
    private let input: FileHandle
    private let collected = CollectedOutput()

    public init(executable: String, arguments: [String], environment: [String: String]? = nil, directory: URL? = nil) throws {
        let input = try PipeEnds()
        let output = try PipeEnds()
        let errorOutput = try PipeEnds()
        do {
            process = try SpawnedProcess(
                executable: executable, arguments: arguments, environment: environment, directory: directory?.path,
                standardInput: input.reading, standardOutput: output.writing, standardError: errorOutput.writing)
        } catch {
            for descriptor in [input.reading, input.writing, output.reading, output.writing, errorOutput.reading, errorOutput.writing] {
                Glibc.close(descriptor)
            }
            throw error
        }
        // The child has its own copies now; the parent's would keep the pipes from reaching
        // end of file.
        Glibc.close(input.reading)
        Glibc.close(output.writing)
        Glibc.close(errorOutput.writing)
        self.input = FileHandle(fileDescriptor: input.writing, closeOnDealloc: true)
        startReader(output.reading, isOutput: true)
        startReader(errorOutput.reading, isOutput: false)
    }

    /// Reads a pipe on a thread of its own until end of file, which comes once the child (and
    /// any process it started) has closed its end. Blocking reads see end of file reliably,
    /// where readability callbacks sometimes miss it.
    ///
    /// The thread owns the read end and closes it itself. Were it closed elsewhere, say when
    /// this object goes away between two reads, a new pipe of another test could get the same
    /// number, and this thread would take that test's output.
    private func startReader(_ descriptor: Int32, isOutput: Bool) {
        // The thread keeps the buffer, not this object, so a test that forgets a child still
        // frees it, and the deinit's SIGKILL ends the read.
        let collected = collected
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = read(descriptor, &buffer, buffer.count)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { break }
                collected.append(Data(buffer[0..<count]), isOutput: isOutput)
            }
            Glibc.close(descriptor)
            collected.end(isOutput: isOutput)
        }
        thread.start()
    }

    public var standardOutput: String {
        collected.text(isOutput: true)
    }

    public var standardError: String {
        collected.text(isOutput: false)
    }

    public func write(_ text: String) {
        input.write(Data(text.utf8))
    }

    /// Writes `data` to standard input and closes it, from another thread, so that a large input
    /// cannot block the caller while the child waits for its output to be read.
    public func writeAndCloseInput(_ data: Data) {
        let handle = input
        let thread = Thread {
            handle.write(data)
            try? handle.close()
        }
        thread.start()
    }

    public func closeInput() {
        try? input.close()
    }

    /// Waits until standard output contains a full line, and returns the first one.
    public func firstOutputLine(timeout: Duration) async throws -> String {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        // The check runs once more after the deadline, because on a loaded machine this task
        // may wake only after the deadline although the line arrived long before.
        var isLastCheck = false
        while true {
            let text = standardOutput
            if let newline = text.firstIndex(of: "\n") {
                return String(text[..<newline])
            }
            guard process.isRunning, !isLastCheck else { break }
            try await Task.sleep(for: .milliseconds(20))
            isLastCheck = ContinuousClock.now >= deadline
        }
        throw TestEnvironmentError("\(URL(fileURLWithPath: process.executable).lastPathComponent) printed no line within \(timeout); its errors: \(standardError)")
    }

    /// Waits until `condition` holds for the error output (where logs go), or fails.
    public func waitForErrorOutput(timeout: Duration, _ condition: (String) -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            if condition(standardError) { return }
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestEnvironmentError("the expected log line did not appear within \(timeout); the log was:\n\(standardError)")
    }

    /// Waits for the process to end, up to `timeout`, and returns its exit status.
    @discardableResult
    public func waitForExit(timeout: Duration = TestEnvironment.patience) async throws -> Int32 {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                throw TestEnvironmentError("\(URL(fileURLWithPath: process.executable).lastPathComponent) did not exit within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        // Wait until both pipes reach end of file, so no output is lost. A grandchild that keeps
        // a pipe open only delays this by the bounded wait.
        let drainDeadline = ContinuousClock.now.advanced(by: .seconds(5))
        while !collected.bothEnded, ContinuousClock.now < drainDeadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        return process.terminationStatus
    }

    public func terminate() {
        process.send(SIGTERM)
    }

    public func kill() {
        process.send(SIGKILL)
    }

    deinit {
        closeInput()
        process.send(SIGKILL)
    }
}

/// Standard output and standard error of a child, filled by reader threads.
private final class CollectedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var output = Data()
    private var errors = Data()
    private var outputEnded = false
    private var errorsEnded = false

    func append(_ chunk: Data, isOutput: Bool) {
        lock.withLock {
            if isOutput { output.append(chunk) } else { errors.append(chunk) }
        }
    }

    func end(isOutput: Bool) {
        lock.withLock {
            if isOutput { outputEnded = true } else { errorsEnded = true }
        }
    }

    func text(isOutput: Bool) -> String {
        lock.withLock { String(decoding: isOutput ? output : errors, as: UTF8.self) }
    }

    var bothEnded: Bool {
        lock.withLock { outputEnded && errorsEnded }
    }
}

/// The two ends of a new pipe. The child gets its copies through `posix_spawn`, which closes
/// every other descriptor in the child, so no child inherits another's pipe.
private struct PipeEnds {
    let reading: Int32
    let writing: Int32

    init() throws {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            throw TestEnvironmentError("creating a pipe failed: \(String(cString: strerror(errno)))")
        }
        reading = ends[0]
        writing = ends[1]
    }
}
