import DocumentStore
import Foundation
import TestSupport
import Testing
import TriggerEmail

@Suite("Attachments end to end")
struct AttachmentDeliveryTests {
    static let pngBase64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

    @Test("attachments and an inline image arrive")
    func attachmentsArrive() async throws {
        let server = try await SMTPTestServer.start()
        let harness = try await DeliveryHarness.sending(to: server)

        let id = try await harness.add([
            "to": "a@example.org", "from": "shop@example.com",
            "message": [
                "subject": "Счёт", "text": "См. вложение", "html": #"<p>Логотип: <img src="cid:logo@shop"></p>"#,
                "attachments": [
                    ["filename": "Счёт №42.txt", "content": "Итого: 100 ₽\n"],
                    ["filename": "data.csv", "content": "612c620a312c320a", "encoding": "hex"],
                    ["filename": "logo.png", "content": .string(Self.pngBase64), "encoding": "base64", "cid": "logo@shop"],
                    ["path": "data:text/plain;base64,SGVsbG8sIHdvcmxkIQ==", "filename": "hello.txt"],
                ],
            ],
        ])

        let delivery = try #require(try await harness.waitForState(id)["delivery"])
        #expect(delivery[path: "state"] == "SUCCESS")
        let received = try #require(try await server.waitForMessages(1).first)
        #expect(received[path: "parsed.content_type"] == "multipart/mixed")

        let parts = try #require(received[path: "parsed.parts"]?.arrayValue)
        #expect(parts.map { $0[path: "content_type"]?.stringValue } == ["text/plain", "text/html", "image/png", "text/plain", "text/csv", "text/plain"])
        #expect(parts[2][path: "content_id"] == "<logo@shop>")
        #expect(parts[2][path: "content_disposition"] == "inline")
        #expect(parts[2][path: "content"] == .string(Self.pngBase64))
        #expect(parts[3][path: "filename"] == "Счёт №42.txt")
        #expect(parts[3][path: "content"] == "Итого: 100 ₽\n")
        #expect(parts[4][path: "filename"] == "data.csv")
        #expect(parts[4][path: "content"] == "a,b\n1,2\n")
        #expect(parts[5][path: "filename"] == "hello.txt")
        #expect(parts[5][path: "content"] == "Hello, world!")
        await harness.stop()
    }

    @Test("refused attachment ends in ERROR naming it")
    func refusedAttachment() async throws {
        let server = try await SMTPTestServer.start()
        let harness = try await DeliveryHarness.sending(to: server)

        let id = try await harness.add([
            "to": "a@example.org", "from": "shop@example.com",
            "message": ["subject": "x", "text": "y", "attachments": [["filename": "secret.txt", "path": "http://127.0.0.1:1/secret.txt"]]],
        ])

        let delivery = try #require(try await harness.waitForState(id)["delivery"])
        #expect(delivery[path: "state"] == "ERROR")
        #expect(delivery[path: "error"] == .string(
            "message.attachments[0] (secret.txt) points to a loopback address (127.0.0.1); set ATTACHMENT_ALLOW_PRIVATE_ADDRESSES=true to allow it."))
        #expect(try server.receivedMessages().isEmpty)
        await harness.stop()
    }
}

@Suite("DKIM end to end")
struct DKIMDeliveryTests {
    @Test("serve signs with DKIM and dkimpy verifies")
    func serveSignsWithDKIM() async throws {
        let folder = try TestEnvironment.makeTemporaryDirectory()
        let privateKey = folder.appendingPathComponent("dkim.pem").path
        let publicKey = folder.appendingPathComponent("dkim.pub").path
        try runTool("/usr/bin/env", ["openssl", "genpkey", "-algorithm", "ED25519", "-out", privateKey])
        try runTool("/usr/bin/env", ["openssl", "pkey", "-in", privateKey, "-pubout", "-out", publicKey])

        let server = try await SMTPTestServer.start()
        let program = try ProgramRunner(environment: [
            "SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(server.port)", "DEFAULT_FROM": "shop@example.com",
            "DKIM_DOMAIN": "example.com", "DKIM_SELECTOR": "mail2026", "DKIM_PRIVATE_KEY_FILE": privateKey,
        ])
        let serve = try program.start(["serve"])
        try await serve.waitForErrorOutput(timeout: TestEnvironment.patience) { $0.contains("processor started") }
        #expect(serve.standardError.contains("signing with DKIM dkim.domain=example.com dkim.selector=mail2026"))

        let sent = try await program.run(["send", "--to", "a@example.org", "--subject", "Подписано", "--text", "Тело", "--wait"])
        #expect(sent.status == 0)

        let received = try #require(try await server.waitForMessages(1).first)
        let raw = try #require(received[path: "raw_base64"]?.stringValue.flatMap { Data(base64Encoded: $0) })
        let verifier = try ChildProcess(
            executable: try TestEnvironment.python(),
            arguments: [TestEnvironment.pythonScript("dkim_verify.py"), publicKey, "example.com", "mail2026"],
            environment: ["PYTHONDONTWRITEBYTECODE": "1"])
        verifier.writeAndCloseInput(raw)
        #expect(try await verifier.waitForExit() == 0)
        #expect(try JSONValue(parsing: verifier.standardOutput)[path: "valid"] == true)

        serve.terminate()
        try await serve.waitForExit()
    }

    @Test("incomplete DKIM settings stop serve")
    func incompleteDKIMSettings() async throws {
        let program = try ProgramRunner(environment: ["DKIM_DOMAIN": "example.com"])
        let result = try await program.run(["serve"])
        #expect(result.status == 1)
        #expect(result.errors == "trigger-email: error: Invalid DKIM_SELECTOR, DKIM_PRIVATE_KEY_FILE: DKIM signing needs DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE together; set the missing ones or unset all three.\n")
    }

    private func runTool(_ executable: String, _ arguments: [String]) throws {
        let process = try SpawnedProcess(executable: executable, arguments: arguments)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestEnvironmentError("\(arguments.joined(separator: " ")) failed with status \(process.terminationStatus)")
        }
    }
}
