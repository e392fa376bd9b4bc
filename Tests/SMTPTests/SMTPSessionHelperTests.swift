@testable import SMTP
import Testing

@Suite("SMTP session helpers")
struct SMTPSessionHelperTests {
    @Test(
        "dot-stuffing doubles a leading dot and ends with CRLF . CRLF",
        arguments: [
            ("Subject: x\r\n\r\nHello\r\n", "Subject: x\r\n\r\nHello\r\n.\r\n"),
            (".\r\n", "..\r\n.\r\n"),
            ("a\r\n.\r\n..b\r\n.c", "a\r\n..\r\n...b\r\n..c\r\n.\r\n"),
            ("no final line break", "no final line break\r\n.\r\n"),
            ("a.b\r\n x.\r\n", "a.b\r\n x.\r\n.\r\n"),
            ("", ".\r\n"),
            ("a\n.b\n", "a\n..b\n.\r\n"),
            ("a\r\n", "a\r\n.\r\n"),
        ])
    func dotStuffing(message: String, expected: String) {
        let stuffed = SMTPSession.dotStuffed(Array(message.utf8))
        #expect(String(decoding: stuffed, as: UTF8.self) == expected)
    }

    @Test("EHLO keywords are upper-cased with their parameters")
    func ehloKeywords() {
        let reply = SMTPReply(
            code: 250,
            lines: ["mx.example.org greets client.example.org", "pipelining", "SIZE 10240000", "AUTH PLAIN LOGIN", "STARTTLS", "8BITMIME"])

        let extensions = SMTPSession.parseExtensions(reply)

        #expect(
            extensions == [
                "PIPELINING": "", "SIZE": "10240000", "AUTH": "PLAIN LOGIN", "STARTTLS": "", "8BITMIME": "",
            ])
    }

    @Test("one-line EHLO reply announces no keywords")
    func ehloWithoutKeywords() {
        #expect(SMTPSession.parseExtensions(SMTPReply(code: 250, lines: ["mx.example.org"])) == [:])
    }
}

@Suite("SMTP configuration")
struct SMTPConfigurationTests {
    @Test("server description brackets IPv6 literals")
    func serverDescription() {
        #expect(SMTPServerConfiguration(host: "smtp.example.com", port: 587, security: .startTLSWhenOffered).serverDescription == "smtp.example.com:587")
        #expect(SMTPServerConfiguration(host: "127.0.0.1", port: 25, security: .startTLSWhenOffered).serverDescription == "127.0.0.1:25")
        #expect(SMTPServerConfiguration(host: "::1", port: 465, security: .implicitTLS).serverDescription == "[::1]:465")
    }

    @Test("credentials description hides the password")
    func credentialsDescription() {
        let credentials = Credentials(user: "mailer", password: "s3cret")
        #expect(credentials.description == "mailer (password redacted)")
        #expect(!"\(credentials)".contains("s3cret"))
    }

    @Test("Clear-text AUTH only to loopback hosts", arguments: [
        ("localhost", true), ("127.0.0.1", true), ("127.1.2.3", true), ("::1", true),
        ("mail.example.com", false), ("10.0.0.5", false), ("::ffff:10.0.0.5", false), ("127.example.com", false), ("127.0.0", false),
    ])
    func clearTextAuthenticationHosts(host: String, isLoopback: Bool) {
        #expect(SMTPSession.isLoopback(host) == isLoopback)
    }
}
