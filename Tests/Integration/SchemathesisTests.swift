import Foundation
import TestSupport
import Testing

/// schemathesis (pinned in Tests/Support/python/requirements.txt) generates requests from
/// openapi.yaml, sends them to a running `trigger-email serve` and checks each response
/// against the specification.
@Suite("OpenAPI specification")
struct SchemathesisTests {
    /// The checks that must pass. `positive_data_acceptance` is left out because page tokens are
    /// opaque: a string that the schema allows is still rejected unless the server issued it.
    static let checks = [
        "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance",
        "response_headers_conformance", "negative_data_rejection", "missing_required_header", "unsupported_method",
        "allow_header_conformance", "ignored_auth", "use_after_free", "ensure_resource_availability",
    ]

    @Test("The server conforms to openapi.yaml")
    func serverConformsToSpecification() async throws {
        let token = "t0k3n-\(UUID().uuidString)"
        let server = try await APIServer.start(["API_TOKEN": token])
        let workDirectory = try TestEnvironment.makeTemporaryDirectory()

        // A fixed seed makes a failing run repeatable. With 200 examples per operation the run
        // took 20 to 25 s on a 2-core machine. The hooks file turns streaming requests into
        // plain ones.
        let arguments = [
            "-m", "schemathesis.cli", "run", TestEnvironment.repositoryRoot.appendingPathComponent("openapi.yaml").path,
            "--url", "http://127.0.0.1:\(server.port)",
            "--header", "Authorization: Bearer \(token)",
            "--checks", Self.checks.joined(separator: ","),
            "--max-examples", "200",
            "--seed", "20250131",
            "--request-timeout", "10",
            "--max-failures", "20",
            "--generation-database", "none",
            "--no-color",
        ]
        let run = try ChildProcess(
            executable: try TestEnvironment.python(), arguments: arguments,
            environment: [
                "SCHEMATHESIS_HOOKS": TestEnvironment.pythonScript("schemathesis_hooks.py"),
                "PYTHONDONTWRITEBYTECODE": "1",
                "HOME": workDirectory.path,
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            ],
            directory: workDirectory)
        run.closeInput()

        let status: Int32
        do {
            status = try await run.waitForExit(timeout: .seconds(300))
        } catch {
            run.kill()
            throw error
        }
        let serverWasRunning = server.isRunning
        let serverStatus = try await server.stop()

        #expect(status == 0, "schemathesis found failures:\n\(run.standardOutput)\n\(run.standardError)")
        #expect(serverWasRunning, "serve died during the run; its log:\n\(server.log.suffix(4000))")
        #expect(serverStatus == 0)
    }
}
