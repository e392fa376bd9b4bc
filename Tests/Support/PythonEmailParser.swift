import DocumentStore
import Foundation

/// Parses messages with Python's `email` package (`python/parse_message.py`), an
/// implementation independent of this project.
public enum PythonEmailParser {
    /// Returns `{"max_line_length", "bare_line_feeds", "parsed": {...}}` for `message`.
    public static func parse(_ message: [UInt8]) async throws -> JSONValue {
        let output = try await run(arguments: [], input: Data(message))
        return try JSONValue(parsing: output)
    }

    /// Parses many messages with one Python process and returns their records in order.
    public static func parseAll(_ messages: [[UInt8]]) async throws -> [JSONValue] {
        let request = JSONValue.array(messages.map { .string(Data($0).base64EncodedString()) }).serialized()
        let output = try await run(arguments: ["--batch"], input: Data(request.utf8))
        guard let records = try JSONValue(parsing: output).arrayValue, records.count == messages.count else {
            throw TestEnvironmentError("parse_message.py --batch returned a different number of records")
        }
        return records
    }

    private static func run(arguments: [String], input: Data) async throws -> String {
        let child = try ChildProcess(
            executable: try TestEnvironment.python(), arguments: [TestEnvironment.pythonScript("parse_message.py")] + arguments,
            environment: ["PYTHONDONTWRITEBYTECODE": "1"])
        child.writeAndCloseInput(input)

        let status = try await child.waitForExit(timeout: .seconds(300))
        guard status == 0 else {
            throw TestEnvironmentError("parse_message.py failed with status \(status): \(child.standardError)")
        }
        return child.standardOutput
    }
}
