import Foundation
import MIME
import Synchronization
import Testing

/// A composer whose date, Message-ID and boundary are the same on every run.
let fixedComposer = MessageComposer(
    date: { Date(timeIntervalSince1970: 1_796_412_101) },
    uniqueToken: { "0123456789abcdefghijKLMN" },
    messageIDDomain: "mail.example.com")

/// Turns a multi-line literal into wire text: every LF becomes CRLF.
func wireText(_ text: String) -> String {
    text.replacingOccurrences(of: "\n", with: "\r\n")
}

@Suite("MessageComposer golden output")
struct MessageComposerGoldenTests {
    @Test("text only")
    func textOnly() {
        let message = MailMessage(
            from: Mailbox(displayName: "Shop", address: "shop@example.com"),
            to: [Mailbox(address: "ana@example.org")],
            subject: "Your order",
            text: "Hello Ana,\nyour order has shipped.\n")

        let composed = fixedComposer.compose(message)

        let expected = wireText(
            """
            Date: Fri, 04 Dec 2026 19:21:41 +0000
            From: Shop <shop@example.com>
            To: ana@example.org
            Subject: Your order
            Message-ID: <0123456789abcdefghijKLMN@mail.example.com>
            MIME-Version: 1.0
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: 7bit

            Hello Ana,
            your order has shipped.

            """)
        #expect(composed.bytes.allSatisfy { $0 < 0x80 })
        #expect(String(decoding: composed.bytes, as: UTF8.self) == expected)
        #expect(composed.messageID == "<0123456789abcdefghijKLMN@mail.example.com>")
        #expect(composed.envelopeSender == "shop@example.com")
        #expect(composed.envelopeRecipients == ["ana@example.org"])
    }

    @Test("text and html")
    func textAndHTML() {
        let message = MailMessage(
            from: Mailbox(displayName: "Shop", address: "shop@example.com"),
            replyTo: [Mailbox(displayName: "Support Team", address: "help@example.com")],
            to: [Mailbox(address: "ana@example.org"), Mailbox(displayName: "Doe, Jane", address: "jane@example.org")],
            cc: [Mailbox(address: "bob@example.net")],
            bcc: [Mailbox(address: "audit@example.com")],
            subject: "Order #1042 shipped",
            text: "Hi Ana,\nyour order shipped.",
            html: "<p>Hi Ana,<br>your order <b>shipped</b> — café.</p>",
            extraHeaders: [HeaderField(name: "List-Unsubscribe", value: "<mailto:unsubscribe@example.com>")])

        let composed = fixedComposer.compose(message)

        let expected = wireText(
            """
            Date: Fri, 04 Dec 2026 19:21:41 +0000
            From: Shop <shop@example.com>
            Reply-To: Support Team <help@example.com>
            To: ana@example.org, "Doe, Jane" <jane@example.org>
            Cc: bob@example.net
            Subject: Order #1042 shipped
            Message-ID: <0123456789abcdefghijKLMN@mail.example.com>
            MIME-Version: 1.0
            List-Unsubscribe: <mailto:unsubscribe@example.com>
            Content-Type: multipart/alternative;
             boundary="=_0123456789abcdefghijKLMN"

            --=_0123456789abcdefghijKLMN
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: 7bit

            Hi Ana,
            your order shipped.
            --=_0123456789abcdefghijKLMN
            Content-Type: text/html; charset=utf-8
            Content-Transfer-Encoding: quoted-printable

            <p>Hi Ana,<br>your order <b>shipped</b> =E2=80=94 caf=C3=A9.</p>
            --=_0123456789abcdefghijKLMN--

            """)
        #expect(composed.bytes.allSatisfy { $0 < 0x80 })
        #expect(String(decoding: composed.bytes, as: UTF8.self) == expected)
        #expect(composed.envelopeRecipients == ["ana@example.org", "jane@example.org", "bob@example.net", "audit@example.com"])
    }

    @Test("non-ASCII names, subject and body")
    func nonASCII() {
        let message = MailMessage(
            from: Mailbox(displayName: "Магазин", address: "shop@example.com"),
            to: [Mailbox(displayName: "Анна", address: "anna@example.org")],
            subject: "Заказ отправлен",
            text: "Привет!")

        let composed = fixedComposer.compose(message)

        let expected = wireText(
            """
            Date: Fri, 04 Dec 2026 19:21:41 +0000
            From: =?UTF-8?B?0JzQsNCz0LDQt9C40L0=?= <shop@example.com>
            To: =?UTF-8?B?0JDQvdC90LA=?= <anna@example.org>
            Subject: =?UTF-8?B?0JfQsNC60LDQtyDQvtGC0L/RgNCw0LLQu9C10L0=?=
            Message-ID: <0123456789abcdefghijKLMN@mail.example.com>
            MIME-Version: 1.0
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: base64

            0J/RgNC40LLQtdGCIQ==

            """)
        #expect(String(decoding: composed.bytes, as: UTF8.self) == expected)
    }

    @Test("no body gives an empty text part")
    func noBody() {
        let message = MailMessage(from: Mailbox(address: "shop@example.com"), to: [Mailbox(address: "ana@example.org")], subject: "")

        let composed = fixedComposer.compose(message)

        let expected = wireText(
            """
            Date: Fri, 04 Dec 2026 19:21:41 +0000
            From: shop@example.com
            To: ana@example.org
            Subject:\u{20}
            Message-ID: <0123456789abcdefghijKLMN@mail.example.com>
            MIME-Version: 1.0
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: 7bit


            """)
        #expect(String(decoding: composed.bytes, as: UTF8.self) == expected)
    }

    @Test("Message-ID domain defaults to the sender's")
    func messageIDDomain() {
        let composer = MessageComposer(uniqueToken: { "token" })
        let message = MailMessage(from: Mailbox(address: "shop@shop.example.com"), to: [Mailbox(address: "ana@example.org")], subject: "x")

        #expect(composer.compose(message).messageID == "<token@shop.example.com>")
    }

    @Test("random tokens are 24 letters and digits")
    func randomToken() {
        let tokens = (0..<100).map { _ in MessageComposer.randomToken() }
        #expect(tokens.allSatisfy { $0.count == 24 })
        #expect(tokens.allSatisfy { $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } })
        #expect(Set(tokens).count == tokens.count)
    }

    @Test("boundary avoids text in the body")
    func boundaryAvoidsBody() {
        let tokens = Mutex(["id", "clash", "fresh"])
        let composer = MessageComposer(
            date: { Date(timeIntervalSince1970: 0) },
            uniqueToken: { tokens.withLock { $0.removeFirst() } })
        let message = MailMessage(
            from: Mailbox(address: "shop@example.com"), to: [Mailbox(address: "ana@example.org")], subject: "x",
            text: "--=_clash", html: "<p>x</p>")

        let text = String(decoding: composer.compose(message).bytes, as: UTF8.self)

        // After a clash the attempt number goes before the next token.
        #expect(text.contains("boundary=\"=_1_fresh\""))
        #expect(!text.contains("boundary=\"=_clash\""))
        #expect(text.hasSuffix("\r\n--=_1_fresh--\r\n"))
    }

    @Test("date is written in UTC")
    func dateInUTC() {
        let composer = MessageComposer(date: { Date(timeIntervalSince1970: 951_782_399.999) }, uniqueToken: { "t" })
        let message = MailMessage(from: Mailbox(address: "shop@example.com"), to: [Mailbox(address: "ana@example.org")], subject: "x")

        let text = String(decoding: composer.compose(message).bytes, as: UTF8.self)

        #expect(text.hasPrefix("Date: Mon, 28 Feb 2000 23:59:59 +0000\r\n"))
    }
}
