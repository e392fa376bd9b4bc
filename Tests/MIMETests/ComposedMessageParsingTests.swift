import DocumentStore
import MIME
import Testing

/// Messages composed by `MessageComposer` and read back by Python's `email` package, an
/// independent implementation. Every message also passes the checks in `composeAndParse`.
@Suite("Composed messages parsed by Python")
struct ComposedMessageParsingTests {
    static let shop = Mailbox(address: "shop@example.com")
    static let ana = Mailbox(address: "ana@example.org")

    @Test("Cyrillic subject and names")
    func cyrillic() async throws {
        let message = MailMessage(
            from: Mailbox(displayName: "Интернет-магазин", address: "shop@example.com"),
            to: [Mailbox(displayName: "Анна Каренина", address: "anna@example.org")],
            cc: [Mailbox(displayName: "Лев Николаевич Толстой", address: "leo@example.org")],
            subject: "Ваш заказ №1042 отправлен",
            text: "Здравствуйте, Анна!")

        let parsed = try await composeAndParse(message)

        #expect(parsed.subject == "Ваш заказ №1042 отправлен")
        #expect(parsed.from == "Интернет-магазин <shop@example.com>")
        #expect(parsed.to == "Анна Каренина <anna@example.org>")
        #expect(parsed.cc == "Лев Николаевич Толстой <leo@example.org>")
        #expect(parsed.parts.first?[path: "content_transfer_encoding"] == "base64")
        #expect(parsed.partContents == ["Здравствуйте, Анна!"])
    }

    @Test("Chinese subject and names")
    func chinese() async throws {
        let message = MailMessage(
            from: Mailbox(displayName: "网上商店", address: "shop@example.cn"),
            to: [Mailbox(displayName: "王小明", address: "wang@example.cn")],
            subject: "您的订单已发货，预计三天内送达。",
            text: "您好！\n您的订单已发货。")

        let parsed = try await composeAndParse(message)

        #expect(parsed.subject == "您的订单已发货，预计三天内送达。")
        #expect(parsed.from == "网上商店 <shop@example.cn>")
        #expect(parsed.to == "王小明 <wang@example.cn>")
        #expect(parsed.parts.first?[path: "content_transfer_encoding"] == "base64")
        #expect(parsed.partContents == ["您好！\r\n您的订单已发货。"])
    }

    @Test("emoji subject and names")
    func emoji() async throws {
        let subject = "🎉 Party time 🎈 👩‍💻👨‍👩‍👧‍👦 🇺🇦"
        let message = MailMessage(
            from: Mailbox(displayName: "Fun 🎉 Team", address: "fun@example.org"),
            to: [Mailbox(displayName: "👩‍💻", address: "dev@example.org"), Self.ana],
            subject: subject,
            text: "See you there 🎈")

        let parsed = try await composeAndParse(message)

        #expect(parsed.subject == subject)
        #expect(parsed.from == "Fun 🎉 Team <fun@example.org>")
        #expect(parsed.to == "👩‍💻 <dev@example.org>, ana@example.org")
        #expect(parsed.parts.first?[path: "content_transfer_encoding"] == "quoted-printable")
        #expect(parsed.partContents == ["See you there 🎈\r\n"])
    }

    @Test("long Cyrillic subject folds into many encoded-words")
    func longCyrillicSubject() async throws {
        let subject = String(repeating: "Съешь же ещё этих мягких французских булок, да выпей чаю. ", count: 6)
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: subject, text: "x")

        let parsed = try await composeAndParse(message)

        #expect(parsed.subject == subject)
        #expect(parsed.encodedWords.count > 10)
        #expect(parsed.headerLines.filter { $0.hasPrefix(" =?UTF-8?B?") }.count == parsed.encodedWords.count - 1)
    }

    @Test("long display names in a list")
    func longDisplayNames() async throws {
        let recipients = [
            Mailbox(displayName: String(repeating: "Александра ", count: 8) + "Петрова", address: "alexandra@example.org"),
            Mailbox(displayName: String(repeating: "欧阳", count: 30), address: "ouyang@example.cn"),
            Mailbox(displayName: "Doe, Jane", address: "jane@example.org"),
            Mailbox(displayName: String(repeating: "🎉", count: 40), address: "party@example.org"),
        ]
        let message = MailMessage(from: Self.shop, to: recipients, subject: "x", text: "x")

        let parsed = try await composeAndParse(message)

        #expect(parsed.encodedWords.count > 6)
        #expect(try await decodeMailboxes("To", in: parsed.composed.bytes) == recipients)
    }

    @Test("display names that need quoting")
    func quotedDisplayNames() async throws {
        let message = MailMessage(
            from: Mailbox(displayName: "Dr. Who", address: "who@example.org"),
            replyTo: [Mailbox(displayName: #"Jane "JJ" Doe"#, address: "jane@example.org")],
            to: [
                Mailbox(displayName: "Doe, Jane", address: "jane@example.org"),
                Mailbox(displayName: #"Back\slash"#, address: "b@example.org"),
                Mailbox(displayName: "O'Brien", address: "ob@example.org"),
            ],
            subject: "x", text: "x")

        let parsed = try await composeAndParse(message)

        #expect(parsed.from == #""Dr. Who" <who@example.org>"#)
        #expect(parsed.header("Reply-To") == #""Jane \"JJ\" Doe" <jane@example.org>"#)
        #expect(parsed.to == #""Doe, Jane" <jane@example.org>, "Back\\slash" <b@example.org>, O'Brien <ob@example.org>"#)
    }

    @Test("text that looks like an encoded-word stays literal")
    func literalEncodedWord() async throws {
        let subject = "=?UTF-8?B?SGk=?= is how Hi is encoded"
        let message = MailMessage(
            from: Mailbox(displayName: "=?UTF-8?B?SGk=?=", address: "shop@example.com"), to: [Self.ana], subject: subject, text: "x")

        let parsed = try await composeAndParse(message)

        #expect(parsed.subject == subject)
        #expect(parsed.from == "=?UTF-8?B?SGk=?= <shop@example.com>")
    }

    @Test("plain subject folds at spaces and keeps them")
    func plainSubjectFolding() async throws {
        let subject = "Your order  #1042 (" + String(repeating: "three items, ", count: 12) + "one gift card)   shipped"
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: subject, text: "x")

        let parsed = try await composeAndParse(message)

        #expect(parsed.subject == subject)
        #expect(parsed.encodedWords == [])
        #expect(parsed.headerLines.filter { $0.hasPrefix(" ") }.count > 1)
    }

    @Test("subject whose first word nearly fills a line", arguments: [69, 70, 75, 77])
    func longFirstWord(length: Int) async throws {
        let subject = String(repeating: "x", count: length) + " and more words"
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: subject, text: "x")

        let parsed = try await composeAndParse(message)

        #expect(parsed.subject == subject)
    }

    @Test("long quoted display name folds")
    func longQuotedDisplayName() async throws {
        let name = "Acme Corporation, Customer  Support Department, Europe, Middle East and Africa"
        let message = MailMessage(
            from: Mailbox(displayName: name, address: "support@example.com"), to: [Self.ana], subject: "x", text: "x")

        let parsed = try await composeAndParse(message)

        #expect(parsed.from == "\"\(name)\" <support@example.com>")
    }

    @Test("subject with a 2,000-character word")
    func longWordSubject() async throws {
        let subject = "Code: " + String(repeating: "0123456789", count: 200) + " end"
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: subject, text: "x")

        let parsed = try await composeAndParse(message)

        #expect(parsed.subject == subject)
    }

    @Test("subject with a line break cannot add a header")
    func subjectLineBreak() async throws {
        let message = MailMessage(
            from: Self.shop, to: [Self.ana], subject: "Hello\r\nBcc: victim@example.net\r\n\r\nbody", text: "x")

        let parsed = try await composeAndParse(message)

        #expect(parsed.header("Bcc") == nil)
        #expect(parsed.composed.bytes.firstRange(of: Array("victim@example.net".utf8)) == nil)
        #expect(parsed.partContents == ["x\r\n"])
    }

    @Test("extra header with non-ASCII value")
    func extraHeader() async throws {
        let message = MailMessage(
            from: Self.shop, to: [Self.ana], subject: "x", text: "x",
            extraHeaders: [
                HeaderField(name: "X-Campaign", value: "Весна 2026 🌷"),
                HeaderField(name: "List-Unsubscribe", value: "<mailto:unsubscribe@example.com>"),
            ])

        let parsed = try await composeAndParse(message)

        #expect(parsed.header("X-Campaign") == "Весна 2026 🌷")
        #expect(parsed.header("List-Unsubscribe") == "<mailto:unsubscribe@example.com>")
    }

    @Test("Date and Message-ID")
    func dateAndMessageID() async throws {
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "x", text: "x")

        let parsed = try await composeAndParse(message)

        #expect(parsed.parsed[path: "date"] == "Fri, 04 Dec 2026 19:21:41 +0000")
        #expect(parsed.parsed[path: "message_id"] == "<0123456789abcdefghijKLMN@mail.example.com>")
    }

    // MARK: - Bodies

    @Test("ASCII text body")
    func asciiBody() async throws {
        let text = "Hello Ana,\n\nyour order has shipped.\n\t-- Shop"
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "x", text: text)

        let parsed = try await composeAndParse(message)

        #expect(parsed.parts.first?[path: "content_transfer_encoding"] == "7bit")
        #expect(parsed.partContents == [crlfText(text) + "\r\n"])
    }

    @Test("mixed line breaks become CRLF")
    func mixedLineBreaks() async throws {
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "x", text: "a\rb\nc\r\nd\n\re")

        let parsed = try await composeAndParse(message)

        #expect(parsed.partContents == ["a\r\nb\r\nc\r\nd\r\n\r\ne\r\n"])
    }

    @Test("multilingual text body")
    func multilingualBody() async throws {
        let text = "Здравствуйте!\n你好！\nHello 👋 — café\n"
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "x", text: text)

        let parsed = try await composeAndParse(message)

        #expect(parsed.partContents == [crlfText(text)])
    }

    @Test("text and html parts decode exactly")
    func textAndHTML() async throws {
        let text = "Hi Ana,\nyour order shipped — café.\n\nShop"
        let html = "<!doctype html>\n<p>Hi Ana,</p>\n<p>Your order <b>shipped</b> — café ☕.</p>\n"
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "x", text: text, html: html)

        let parsed = try await composeAndParse(message)

        #expect(parsed.parsed[path: "content_type"] == "multipart/alternative")
        #expect(parsed.parts.map { $0[path: "content_type"] } == ["text/plain", "text/html"])
        #expect(parsed.partContents == [crlfText(text), crlfText(html)])
    }

    @Test("html only")
    func htmlOnly() async throws {
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "x", html: "<p>Hi</p>")

        let parsed = try await composeAndParse(message)

        #expect(parsed.parts.map { $0[path: "content_type"] } == ["text/html"])
        #expect(parsed.partContents == ["<p>Hi</p>\r\n"])
    }

    @Test("no body")
    func noBody() async throws {
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "Nothing to say")

        let parsed = try await composeAndParse(message)

        #expect(parsed.parts.map { $0[path: "content_type"] } == ["text/plain"])
        #expect(parsed.partContents == [""])
    }

    @Test("lines starting with a dot or From")
    func dotAndFromLines() async throws {
        let text = "From the start\n.\n..two dots\n.leading dot\nFrom again\n>From quoted\nlast ."
        let plain = MailMessage(from: Self.shop, to: [Self.ana], subject: "x", text: text)
        let withHTML = MailMessage(from: Self.shop, to: [Self.ana], subject: "x", text: text + " é", html: ".\nFrom <b>x</b>")

        let parsedPlain = try await composeAndParse(plain)
        let parsedWithHTML = try await composeAndParse(withHTML)

        #expect(parsedPlain.partContents == [crlfText(text) + "\r\n"])
        #expect(parsedWithHTML.partContents == [crlfText(text + " é"), crlfText(".\nFrom <b>x</b>")])
    }

    @Test("From at a line start is encoded in quoted-printable")
    func fromEncodedInQuotedPrintable() async throws {
        let text = "café\nFrom here"
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "x", text: text)

        let parsed = try await composeAndParse(message)

        #expect(parsed.parts.first?[path: "content_transfer_encoding"] == "quoted-printable")
        #expect(parsed.composed.bytes.firstRange(of: Array("\r\n=46rom here".utf8)) != nil)
        #expect(parsed.partContents == [crlfText(text) + "\r\n"])
    }

    @Test("5,000-character line")
    func longLine() async throws {
        let line = String(repeating: "0123456789 abcdefghijklmnopqrstuvwxyz ", count: 132).prefix(5_000)
        let text = "Start\n" + line + "\nEnd"
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "x", text: text, html: String(line))

        let parsed = try await composeAndParse(message)

        #expect(line.count == 5_000)
        #expect(parsed.partContents == [crlfText(text), String(line)])
    }

    @Test("line of 998 octets stays 7bit, 999 does not")
    func lineLengthLimit() async throws {
        let fits = MailMessage(from: Self.shop, to: [Self.ana], subject: "x", text: String(repeating: "a", count: 998))
        let tooLong = MailMessage(from: Self.shop, to: [Self.ana], subject: "x", text: String(repeating: "a", count: 999))

        let parsedFits = try await composeAndParse(fits)
        let parsedTooLong = try await composeAndParse(tooLong)

        #expect(parsedFits.parts.first?[path: "content_transfer_encoding"] == "7bit")
        #expect(parsedFits.partContents == [String(repeating: "a", count: 998) + "\r\n"])
        #expect(parsedTooLong.parts.first?[path: "content_transfer_encoding"] == "quoted-printable")
        #expect(parsedTooLong.partContents == [String(repeating: "a", count: 999) + "\r\n"])
    }

    @Test("trailing spaces and equals signs survive quoted-printable")
    func quotedPrintableEdges() async throws {
        let text = "é line with trailing space \nand tab\t\n= a=b ==\n" + String(repeating: "plain words ", count: 20) + "\ntrailing space "
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "x", text: text)

        let parsed = try await composeAndParse(message)

        #expect(parsed.parts.first?[path: "content_transfer_encoding"] == "quoted-printable")
        #expect(parsed.partContents == [crlfText(text) + "\r\n"])
    }

    @Test("control characters and NUL in the body")
    func controlCharacters() async throws {
        let text = "bell\u{07} nul\u{0} escape\u{1B}[0m"
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "x", text: text)

        let parsed = try await composeAndParse(message)

        #expect(parsed.partContents == [text + "\r\n"])
    }

    // MARK: - Recipients

    @Test("Bcc only in the envelope")
    func bccOnlyInEnvelope() async throws {
        let message = MailMessage(
            from: Self.shop,
            to: [Self.ana],
            cc: [Mailbox(displayName: "Bob", address: "bob@example.net")],
            bcc: [Mailbox(displayName: "Audit", address: "audit@example.com"), Mailbox(address: "ANA@example.org")],
            subject: "x", text: "x")

        let parsed = try await composeAndParse(message)

        #expect(parsed.composed.envelopeRecipients == ["ana@example.org", "bob@example.net", "audit@example.com"])
        #expect(parsed.to == "ana@example.org")
        #expect(parsed.cc == "Bob <bob@example.net>")
    }

    @Test("Bcc without To or Cc")
    func bccOnly() async throws {
        let message = MailMessage(
            from: Self.shop, bcc: [Mailbox(address: "hidden@example.org")], subject: "Undisclosed", text: "x")

        let parsed = try await composeAndParse(message)

        #expect(parsed.composed.envelopeRecipients == ["hidden@example.org"])
        #expect(parsed.to == nil)
        #expect(parsed.cc == nil)
    }
}
