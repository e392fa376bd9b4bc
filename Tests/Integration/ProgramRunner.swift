import DocumentStore
import Foundation
import TestSupport

/// Runs the `trigger-email` program built for the tests, in a folder of its own.
struct ProgramRunner {
    let directory: URL
    var environment: [String: String]

    init(environment: [String: String] = [:]) throws {
        directory = try TestEnvironment.makeTemporaryDirectory()
        // `serve` serves HTTP too, and port 0 takes a free port, so tests can run it side by side.
        self.environment = ["DATABASE_URL": "sqlite:\(directory.appendingPathComponent("mail.db").path)", "LISTEN": "127.0.0.1:0"]
            .merging(environment) { _, new in new }
    }

    var databasePath: String { directory.appendingPathComponent("mail.db").path }

    struct Result {
        var status: Int32
        var output: String
        var errors: String

        var lines: [String] { output.split(separator: "\n").map(String.init) }
    }

    /// Runs `trigger-email ARGUMENTS` to its end with `input` on standard input.
    func run(_ arguments: [String], input: String = "") async throws -> Result {
        let child = try start(arguments)
        child.write(input)
        child.closeInput()
        let status = try await child.waitForExit(timeout: TestEnvironment.patience)
        return Result(status: status, output: child.standardOutput, errors: child.standardError)
    }

    /// Starts `trigger-email ARGUMENTS` and leaves it running.
    func start(_ arguments: [String], environment extra: [String: String] = [:]) throws -> ChildProcess {
        try ChildProcess(
            executable: TestEnvironment.programPath, arguments: arguments,
            environment: environment.merging(extra) { _, new in new }, directory: directory)
    }

    /// Starts `serve` on a free loopback port and waits until its HTTP API listens.
    func startServe(environment extra: [String: String] = [:]) async throws -> (child: ChildProcess, port: Int) {
        let port = try TestEnvironment.unusedLoopbackPort()
        let child = try start(["serve"], environment: extra.merging(["LISTEN": "127.0.0.1:\(port)"]) { _, new in new })
        do {
            try await child.waitForErrorOutput(timeout: TestEnvironment.patience) { $0.contains("HTTP API listening") }
        } catch {
            child.kill()
            throw error
        }
        return (child, port)
    }

    /// Reads a document's fields with the program's `get`.
    func document(_ id: String) async throws -> JSONValue {
        let result = try await run(["get", id])
        guard result.status == 0 else { throw TestEnvironmentError("get \(id) failed: \(result.errors)") }
        return try JSONValue(parsing: result.output)
    }

    /// Polls `get` until `delivery.state` is one of `states`.
    func waitForState(_ id: String, _ states: Set<String>, timeout: Duration = TestEnvironment.patience) async throws -> JSONValue {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let document = try await self.document(id)
            if let state = document[path: "data.delivery.state"]?.stringValue, states.contains(state) {
                return document
            }
            guard ContinuousClock.now < deadline else {
                throw TestEnvironmentError("document \(id) did not reach \(states.sorted()) within \(timeout): \(document.serialized())")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
