import DocumentStore
import Foundation
import TestSupport

@testable import TriggerEmail

/// `http_test_server.py` on a free port of 127.0.0.1, serving the files of a new temporary
/// folder, for the attachment tests that fetch over HTTP.
final class AttachmentHTTPServer: @unchecked Sendable {
    let port: Int
    let root: URL
    private let child: ChildProcess

    static func start() async throws -> AttachmentHTTPServer {
        let root = try TestEnvironment.makeTemporaryDirectory()
        let arguments = [TestEnvironment.pythonScript("http_test_server.py"), "--root", root.path, "--port", "0"]
        let child = try ChildProcess(executable: try TestEnvironment.python(), arguments: arguments, environment: ["PYTHONDONTWRITEBYTECODE": "1"])

        let readyLine = try await child.firstOutputLine(timeout: TestEnvironment.patience)
        guard let ready = try? JSONValue(parsing: readyLine), let port = ready[path: "port"]?.numberValue else {
            throw TestEnvironmentError("the HTTP test server did not report its port; it printed \(readyLine)")
        }
        return AttachmentHTTPServer(child: child, port: Int(port), root: root)
    }

    private init(child: ChildProcess, port: Int, root: URL) {
        self.child = child
        self.port = port
        self.root = root
    }

    deinit {
        child.closeInput()
        child.terminate()
    }

    /// Returns the URL of `path` on this server, such as `http://127.0.0.1:PORT/report.pdf`.
    func url(_ path: String) -> String {
        "http://127.0.0.1:\(port)\(path)"
    }

    /// Writes a file into the served folder.
    func serve(_ name: String, _ content: [UInt8]) throws {
        try Data(content).write(to: root.appendingPathComponent(name))
    }

    /// The request lines the server logged so far, such as `GET /report.pdf`.
    var requests: [String] {
        child.standardError.split(separator: "\n").map(String.init).filter { $0.hasPrefix("GET ") }
    }
}

/// Loads `attachments` and returns the error message, or `nil` when loading succeeded.
func loadingError(_ loader: AttachmentLoader, _ attachments: JSONValue) async -> String? {
    do {
        _ = try await loader.load(attachments)
        return nil
    } catch {
        return error.message
    }
}

/// Creates a loader whose private-address check lets 127.0.0.1 through, so that tests can fetch from
/// their own server while every other restricted address is still rejected. Its fetch limit
/// is generous, because a loaded test machine can take longer than the default 30 seconds.
func loaderExemptingTestServer(_ settings: AttachmentSettings = AttachmentSettings(fetchTimeout: .seconds(300))) -> AttachmentLoader {
    AttachmentLoader(settings: settings, blockingThreads: nil, exemptAddresses: ["127.0.0.1"])
}

