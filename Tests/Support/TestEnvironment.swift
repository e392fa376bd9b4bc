import DocumentStore
import Foundation

/// Paths and tools the tests share: the repository, the Python in `.venv`, temporary folders.
public enum TestEnvironment {
    /// How long a test waits for something that should happen within a second or two. All
    /// tests share two cores and a small pool of threads, and on a loaded machine a waiting
    /// task has resumed a minute late. Waits are therefore generous, which costs nothing when
    /// the awaited event comes.
    public static let patience: Duration = .seconds(180)

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

    /// The `trigger-email` program that `swift build` made for the tests, or `TRIGGER_EMAIL_PROGRAM` when set (for a build with another `--scratch-path`).
    public static var programPath: String {
        ProcessInfo.processInfo.environment["TRIGGER_EMAIL_PROGRAM"]
            ?? repositoryRoot.appendingPathComponent(".build/debug/trigger-email").path
    }

    /// Returns a TCP port on 127.0.0.1 that is free at the moment of the call.
    public static func unusedLoopbackPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestEnvironmentError("creating a socket failed: errno \(errno)") }
        defer { close(descriptor) }

        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw TestEnvironmentError("binding a socket to 127.0.0.1 failed: errno \(errno)") }

        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { throw TestEnvironmentError("getsockname on a loopback socket failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
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
