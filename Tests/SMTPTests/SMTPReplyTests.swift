import SMTP
import Testing

/// A reply code, the first line of its text, and the enhanced status code expected from it.
struct EnhancedCodeCase: Sendable, CustomTestStringConvertible {
    var code: Int
    var text: String
    var expected: String?

    init(_ code: Int, _ text: String, _ expected: String?) {
        self.code = code
        self.text = text
        self.expected = expected
    }

    var testDescription: String { "\(code) \(text)" }
}

@Suite("SMTPReply")
struct SMTPReplyTests {
    @Test(
        "enhanced status code from the first line",
        arguments: [
            EnhancedCodeCase(250, "2.0.0 Ok: queued as 4Xc9", "2.0.0"),
            EnhancedCodeCase(550, "5.1.1 <a@example.org>: Recipient address rejected", "5.1.1"),
            EnhancedCodeCase(451, "4.7.1 Try again later", "4.7.1"),
            EnhancedCodeCase(554, "5.7.1", "5.7.1"),
            EnhancedCodeCase(550, "5.1.10 Recipient address rejected", "5.1.10"),
            EnhancedCodeCase(550, "5.123.456 three-digit subject and detail", "5.123.456"),
        ])
    func enhancedCode(_ enhanced: EnhancedCodeCase) {
        #expect(SMTPReply(code: enhanced.code, lines: [enhanced.text]).enhancedStatusCode == enhanced.expected)
    }

    @Test(
        "no enhanced status code",
        arguments: [
            EnhancedCodeCase(250, "mail.example.org Hello", nil),
            EnhancedCodeCase(250, "", nil),
            EnhancedCodeCase(550, "4.1.1 class does not match the reply code", nil),
            EnhancedCodeCase(250, "2.0 too short", nil),
            EnhancedCodeCase(250, "2.0.0.0 too long", nil),
            EnhancedCodeCase(250, "2.1000.0 subject over three digits", nil),
            EnhancedCodeCase(250, "2.0.1000 detail over three digits", nil),
            EnhancedCodeCase(250, "2..0 empty subject", nil),
            EnhancedCodeCase(250, "X.0.0 letter", nil),
            EnhancedCodeCase(550, "55.1.1 two-digit class", nil),
            EnhancedCodeCase(250, "２.0.0 full-width digit", nil),
            EnhancedCodeCase(550, " 5.1.1 leading space", nil),
            EnhancedCodeCase(550, "5.1.1: colon after the code", nil),
        ])
    func noEnhancedCode(_ enhanced: EnhancedCodeCase) {
        #expect(SMTPReply(code: enhanced.code, lines: [enhanced.text]).enhancedStatusCode == nil)
    }

    @Test("only the first line carries the enhanced status code")
    func firstLineOnly() {
        let reply = SMTPReply(code: 250, lines: ["mx.example.org greets client.example.org", "2.0.0 PIPELINING"])
        #expect(reply.enhancedStatusCode == nil)
        #expect(SMTPReply(code: 250, lines: []).enhancedStatusCode == nil)
    }

    @Test("description joins the lines after the code")
    func description() {
        #expect(
            SMTPReply(code: 550, lines: ["5.1.1 <a@example.org>: Recipient address rejected"]).description
                == "550 5.1.1 <a@example.org>: Recipient address rejected")
        #expect(
            SMTPReply(code: 250, lines: ["mx.example.org", "PIPELINING", "SIZE 10240000"]).description
                == "250 mx.example.org PIPELINING SIZE 10240000")
        #expect(SMTPReply(code: 250, lines: ["  Ok  "]).description == "250 Ok")
    }

    @Test("description of a reply without text")
    func descriptionWithoutText() {
        #expect(SMTPReply(code: 221, lines: []).description == "221")
        #expect(SMTPReply(code: 221, lines: [""]).description == "221")
        #expect(SMTPReply(code: 221, lines: [" ", ""]).description == "221")
    }

    @Test(
        "reply classes",
        arguments: [
            (200, "positive completion"), (250, "positive completion"), (299, "positive completion"),
            (300, "positive intermediate"), (354, "positive intermediate"), (399, "positive intermediate"),
            (400, "transient failure"), (450, "transient failure"), (499, "transient failure"),
            (500, "permanent failure"), (554, "permanent failure"), (599, "permanent failure"),
            (199, "none"), (600, "none"),
        ])
    func replyClass(code: Int, expected: String) {
        let reply = SMTPReply(code: code, lines: ["text"])
        let classes = [
            (reply.isPositiveCompletion, "positive completion"),
            (reply.isPositiveIntermediate, "positive intermediate"),
            (reply.isTransientFailure, "transient failure"),
            (reply.isPermanentFailure, "permanent failure"),
        ].filter(\.0).map(\.1)
        #expect(classes == (expected == "none" ? [] : [expected]))
    }
}
