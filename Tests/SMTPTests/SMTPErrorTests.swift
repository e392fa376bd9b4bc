@testable import SMTP
import Testing

@Suite("SMTPError")
struct SMTPErrorTests {
    static let server = "mx.example.org:25"
    static let noSuchUser = SMTPReply(code: 550, lines: ["5.1.1 no such user"])
    static let mailboxBusy = SMTPReply(code: 450, lines: ["4.2.1 mailbox busy"])

    @Test("command and reply")
    func commandAndReply() {
        let error = SMTPError(step: .recipients, server: Self.server, command: .rcptTo("a@example.org"), reply: Self.noSuchUser)
        #expect(error.description == "RCPT TO:<a@example.org> rejected by mx.example.org:25: 550 5.1.1 no such user.")
    }

    @Test("reply ending in a period")
    func replyEndingInPeriod() {
        let error = SMTPError(
            step: .recipients, server: Self.server, command: .rcptTo("a@example.org"), reply: SMTPReply(code: 550, lines: ["5.1.1 Unknown user."]))
        #expect(error.description == "RCPT TO:<a@example.org> rejected by mx.example.org:25: 550 5.1.1 Unknown user.")
    }

    @Test("command, reply and detail")
    func commandReplyAndDetail() {
        let error = SMTPError(
            step: .authentication, server: "smtp.example.com:587", command: .authLogin,
            reply: SMTPReply(code: 535, lines: ["5.7.8 Authentication credentials invalid"]),
            detail: "check the user in SMTP_CONNECTION_URI and SMTP_PASSWORD")
        #expect(
            error.description
                == "AUTH LOGIN rejected by smtp.example.com:587: 535 5.7.8 Authentication credentials invalid (check the user in SMTP_CONNECTION_URI and SMTP_PASSWORD).")
    }

    @Test("reply without a command")
    func replyWithoutCommand() {
        let error = SMTPError(
            step: .greeting, server: Self.server, reply: SMTPReply(code: 554, lines: ["5.3.2 too busy"]),
            detail: "the server does not accept mail now")
        #expect(error.description == "greeting failed at mx.example.org:25: 554 5.3.2 too busy (the server does not accept mail now).")
    }

    @Test("detail without a reply")
    func detailWithoutReply() {
        let error = SMTPError(step: .connect, server: "[::1]:2525", detail: "Connection refused")
        #expect(error.description == "connect failed at [::1]:2525: Connection refused.")
    }

    @Test("command without a reply")
    func commandWithoutReply() {
        let error = SMTPError(
            step: .mailFrom, server: Self.server, command: .mailFrom("shop@example.com"),
            detail: "the server closed the connection")
        #expect(error.description == "MAIL FROM failed at mx.example.org:25: the server closed the connection.")
    }

    @Test("step only")
    func stepOnly() {
        #expect(SMTPError(step: .data, server: Self.server).description == "DATA failed at mx.example.org:25.")
    }

    @Test("may have been delivered")
    func mayHaveBeenDelivered() {
        let error = SMTPError(
            step: .messageData, server: Self.server, detail: "timed out waiting for the reply to the message data",
            mayHaveBeenDelivered: true)
        #expect(
            error.description
                == "message data failed at mx.example.org:25: timed out waiting for the reply to the message data. The message may have been delivered, so it was not sent again; check the recipient's mailbox before retrying.")
    }

    @Test("rejected message data")
    func rejectedMessageData() {
        let error = SMTPError(
            step: .messageData, server: Self.server, reply: SMTPReply(code: 552, lines: ["5.3.4 Message too big"]),
            detail: "the server rejected the message")
        #expect(
            error.description
                == "message data failed at mx.example.org:25: 552 5.3.4 Message too big (the server rejected the message).")
    }

    @Test(
        "step names",
        arguments: [
            (SMTPError.Step.connect, "connect"), (.greeting, "greeting"), (.hello, "EHLO"), (.startTLS, "STARTTLS"),
            (.tlsHandshake, "TLS handshake"), (.authentication, "AUTH"), (.mailFrom, "MAIL FROM"),
            (.recipients, "RCPT TO"), (.data, "DATA"), (.messageData, "message data"),
        ])
    func stepName(step: SMTPError.Step, expected: String) {
        #expect(SMTPError(step: step, server: Self.server).description == "\(expected) failed at mx.example.org:25.")
    }

    @Test("4xx reply is temporary")
    func transientReply() {
        let error = SMTPError(step: .recipients, server: Self.server, command: .rcptTo("a@example.org"), reply: Self.mailboxBusy)
        #expect(error.isTemporary)
        #expect(!error.isPermanent)
    }

    @Test("5xx reply is permanent")
    func permanentReply() {
        let error = SMTPError(step: .recipients, server: Self.server, command: .rcptTo("a@example.org"), reply: Self.noSuchUser)
        #expect(!error.isTemporary)
        #expect(error.isPermanent)
    }

    @Test("unexpected positive reply is permanent")
    func unexpectedPositiveReply() {
        let error = SMTPError(step: .data, server: Self.server, command: .data, reply: SMTPReply(code: 250, lines: ["Ok"]))
        #expect(error.isPermanent)
    }

    @Test(
        "failure without a reply is temporary except in the TLS handshake",
        arguments: [
            (SMTPError.Step.connect, true), (.greeting, true), (.hello, true), (.startTLS, true), (.tlsHandshake, false),
            (.authentication, true), (.mailFrom, true), (.recipients, true), (.data, true), (.messageData, true),
        ])
    func withoutReply(step: SMTPError.Step, isTemporary: Bool) {
        let error = SMTPError(step: step, server: Self.server, detail: "timed out")
        #expect(error.isTemporary == isTemporary)
        #expect(error.isPermanent == !isTemporary)
    }
}

@Suite("NoRecipientAcceptedError")
struct NoRecipientAcceptedErrorTests {
    static let noSuchUser = SMTPReply(code: 550, lines: ["5.1.1 no such user"])
    static let mailboxBusy = SMTPReply(code: 450, lines: ["4.2.1 mailbox busy"])

    @Test("quotes every rejection")
    func description() {
        let error = NoRecipientAcceptedError(
            server: "mx.example.org:25",
            rejections: [("a@example.org", Self.noSuchUser), ("b@example.org", Self.mailboxBusy)])
        #expect(
            error.description
                == "No recipient was accepted by mx.example.org:25: RCPT TO <a@example.org>: 550 5.1.1 no such user; RCPT TO <b@example.org>: 450 4.2.1 mailbox busy.")
    }

    @Test("temporary only when every rejection is 4xx")
    func isTemporary() {
        let allBusy = NoRecipientAcceptedError(
            server: "mx.example.org:25", rejections: [("a@example.org", Self.mailboxBusy), ("b@example.org", Self.mailboxBusy)])
        let mixed = NoRecipientAcceptedError(
            server: "mx.example.org:25", rejections: [("a@example.org", Self.mailboxBusy), ("b@example.org", Self.noSuchUser)])
        let allRejected = NoRecipientAcceptedError(server: "mx.example.org:25", rejections: [("a@example.org", Self.noSuchUser)])

        #expect(allBusy.isTemporary)
        #expect(!mixed.isTemporary)
        #expect(!allRejected.isTemporary)
    }

    @Test("envelope without recipients")
    func noRecipients() {
        let error = NoRecipientAcceptedError(server: "mx.example.org:25", rejections: [])
        #expect(error.description == "No recipient was accepted by mx.example.org:25: the envelope has no recipients.")
        #expect(!error.isTemporary)
    }
}
