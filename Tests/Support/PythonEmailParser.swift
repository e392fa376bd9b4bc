import DocumentStore
import Foundation

/// Parses a message with Python's `email` package (`python/parse_message.py`), an
/// implementation nobody on this project wrote.
public enum PythonEmailParser {
    /// Returns `{"max_line_length", "bare_line_feeds", "parsed": {...}}` for `message`.
    public static func parse(_ message: [UInt8]) async throws -> JSONValue {
        let child = try ChildProcess(
            executable: try TestEnvironment.python(), arguments: [TestEnvironment.pythonScript("parse_message.py")],
            environment: ["PYTHONDONTWRITEBYTECODE": "1"])
        child.write(String(decoding: message, as: UTF8.self))
        child.closeInput()

        let status = try await child.waitForExit()
        guard status == 0 else {
            throw TestEnvironmentError("parse_message.py failed with status \(status): \(child.standardError)")
        }
        return try JSONValue(parsing: child.standardOutput)
    }
}
