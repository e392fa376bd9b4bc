import Foundation
import TestSupport
import Testing

@Suite("check-smtp")
struct CheckSMTPTests {
    @Test("reports TLS, certificate, extensions and AUTH")
    func reportsServer() async throws {
        let server = try await SMTPTestServer.start(.init(tls: .starttls, users: ["mailer:s3cret"]))
        let caFile = try #require(server.caFile)
        let environment = [
            "SMTP_CONNECTION_URI": "smtp://mailer@127.0.0.1:\(server.port)", "SMTP_PASSWORD": "s3cret",
            "TLS_OPTIONS": #"{"ca": "\#(caFile)"}"#,
        ]

        let result = try await ProgramRunner(environment: environment).run(["check-smtp"])

        #expect(result.status == 0)
        #expect(result.lines.first == "Server: 127.0.0.1:\(server.port)")
        #expect(result.lines.contains { $0.hasPrefix("Greeting: 220 ") })
        #expect(result.lines.contains { $0 == "TLS: TLSv1.3" || $0 == "TLS: TLSv1.2" })
        #expect(result.lines.contains { $0.hasPrefix("Certificate subject: ") })
        #expect(result.lines.contains("  AUTH LOGIN PLAIN") || result.lines.contains("  AUTH PLAIN LOGIN"))
        #expect(result.lines.last == "AUTH: succeeded")
        #expect(!result.output.contains("s3cret"))
        #expect(try server.receivedMessages().isEmpty)
    }

    @Test("reports a refused password with exit status 1")
    func reportsRefusedPassword() async throws {
        let server = try await SMTPTestServer.start(.init(tls: .starttls, users: ["mailer:s3cret"]))
        let caFile = try #require(server.caFile)
        let environment = [
            "SMTP_CONNECTION_URI": "smtp://mailer@127.0.0.1:\(server.port)", "SMTP_PASSWORD": "wrong",
            "TLS_OPTIONS": #"{"ca": "\#(caFile)"}"#,
        ]

        let result = try await ProgramRunner(environment: environment).run(["check-smtp"])

        #expect(result.status == 1)
        #expect(result.lines.last?.hasPrefix("AUTH: failed: AUTH PLAIN <redacted> rejected by 127.0.0.1:\(server.port): 535 5.7.8") == true)
        #expect(!result.output.contains("wrong"))
    }

    @Test("without SMTP settings says what to set")
    func withoutSettings() async throws {
        let result = try await ProgramRunner().run(["check-smtp"])
        #expect(result.status == 1)
        #expect(result.errors == "trigger-email: error: No SMTP server is configured: set SMTP_CONNECTION_URI (and SMTP_PASSWORD when it names a user), or AUTH_TYPE=OAuth2 with HOST.\n")
    }
}
