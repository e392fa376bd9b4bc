@testable import SMTP
import Testing

@Suite("SMTPCommand")
struct SMTPCommandTests {
    @Test(
        "wire lines",
        arguments: [
            (SMTPCommand.ehlo("client.example.org"), "EHLO client.example.org"),
            (.helo("client.example.org"), "HELO client.example.org"),
            (.startTLS, "STARTTLS"),
            (.mailFrom("shop@example.com"), "MAIL FROM:<shop@example.com>"),
            (.mailFrom(""), "MAIL FROM:<>"),
            (.rcptTo("ana@example.org"), "RCPT TO:<ana@example.org>"),
            (.data, "DATA"),
            (.reset, "RSET"),
            (.quit, "QUIT"),
            (.authLogin, "AUTH LOGIN"),
        ])
    func wireLine(command: SMTPCommand, expected: String) {
        #expect(command.wireLine == expected)
        #expect(command.logLine == expected)
        #expect(command.description == expected)
    }

    @Test("AUTH PLAIN sends base64 of NUL, user, NUL, password")
    func authPlainWire() {
        let command = SMTPCommand.authPlain(user: "mailer", password: "s3cret")
        #expect(command.wireLine == "AUTH PLAIN AG1haWxlcgBzM2NyZXQ=")
    }

    @Test("AUTH PLAIN with non-ASCII credentials")
    func authPlainNonASCII() {
        let command = SMTPCommand.authPlain(user: "ana@example.org", password: "pässwörd")
        #expect(command.wireLine == "AUTH PLAIN AGFuYUBleGFtcGxlLm9yZwBww6Rzc3fDtnJk")
    }

    @Test(
        "AUTH PLAIN log form hides the credentials",
        arguments: [("mailer", "s3cret"), ("ana@example.org", "pässwörd"), ("u", "correct horse battery staple")])
    func authPlainLog(user: String, password: String) {
        let command = SMTPCommand.authPlain(user: user, password: password)
        let wireResponse = String(command.wireLine.dropFirst("AUTH PLAIN ".count))

        #expect(command.logLine == "AUTH PLAIN <redacted>")
        #expect(command.description == "AUTH PLAIN <redacted>")
        #expect(!command.logLine.contains(password))
        #expect(!command.logLine.contains(wireResponse))
        #expect(!"\(command)".contains(wireResponse))
    }

    @Test("AUTH LOGIN responses are base64 and hidden in the log")
    func authLoginResponses() {
        let user = SMTPCommand.saslResponse("mailer", describedAs: "user name")
        let password = SMTPCommand.saslResponse("s3cret", describedAs: "password")

        #expect(user.wireLine == "bWFpbGVy")
        #expect(user.logLine == "<user name redacted>")
        #expect(password.wireLine == "czNjcmV0")
        #expect(password.logLine == "<password redacted>")
        #expect(!password.logLine.contains("s3cret"))
        #expect(!password.logLine.contains("czNjcmV0"))
        #expect(!"\(password)".contains("czNjcmV0"))
    }

    @Test("AUTH failure sentence hides the credentials")
    func authErrorSentence() {
        let command = SMTPCommand.authPlain(user: "mailer", password: "s3cret")
        let error = SMTPError(
            step: .authentication, server: "smtp.example.com:587", command: command,
            reply: SMTPReply(code: 535, lines: ["5.7.8 Authentication credentials invalid"]))

        #expect(!error.description.contains("s3cret"))
        #expect(!error.description.contains("AG1haWxlcgBzM2NyZXQ="))
        #expect(error.description == "AUTH PLAIN <redacted> rejected by smtp.example.com:587: 535 5.7.8 Authentication credentials invalid.")
    }

    @Test(
        "base64 of the RFC 4648 test vectors",
        arguments: [
            ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ])
    func base64(text: String, expected: String) {
        #expect(Base64Text.encode(Array(text.utf8)) == expected)
    }

    @Test("base64 of every byte value")
    func base64AllBytes() {
        let bytes = [UInt8](0...255)
        let expected =
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w=="
        #expect(Base64Text.encode(bytes) == expected)
    }
}
