import DocumentStore
import Foundation

/// Paths and tools the tests share: the repository, the Python in `.venv`, temporary folders.
public enum TestEnvironment {
    /// The repository's root folder, found from this file's own path.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The Python with the test tools: `TRIGGER_EMAIL_PYTHON`, or `.venv/bin/python` (made by
    /// `make test`). Tests that need it fail when it is missing instead of skipping, so a run
    /// without the real SMTP server can never pass by accident.
    public static func python() throws -> String {
        let candidates: [String?] = [
            ProcessInfo.processInfo.environment["TRIGGER_EMAIL_PYTHON"],
            repositoryRoot.appendingPathComponent(".venv/bin/python").path,
        ]
        for case let path? in candidates where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        throw TestEnvironmentError("No Python with the test tools found; run make test, which creates .venv with aiosmtpd.")
    }

    public static func pythonScript(_ name: String) -> String {
        repositoryRoot.appendingPathComponent("Tests/Support/python/\(name)").path
    }

    /// The `trigger-email` program that `swift build` made for the tests.
    public static var programPath: String {
        repositoryRoot.appendingPathComponent(".build/debug/trigger-email").path
    }

    /// Creates a new empty folder under the system's temporary folder.
    public static func makeTemporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("trigger-email-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

public struct TestEnvironmentError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
