import MIME
import Testing

@Suite("Punycode")
struct PunycodeTests {
    @Test(
        "labels encode as RFC 3492 and Python's codec do",
        arguments: [
            ("bücher", "bcher-kva"),
            ("münchen", "mnchen-3ya"),
            ("他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"),
            ("3年B組金八先生", "3B-ww4c5e180e575a65lsy2b"),
            ("ليهمابتكلموشعربي؟", "egbpdaj6bu4bxfgehfvwxn"),
            ("пример", "e1afmkfd"),
            ("😀", "e28h"),
        ])
    func encodesLabels(label: String, expected: String) {
        #expect(Punycode.encode(label) == expected)
    }

    @Test("domains convert label by label")
    func convertsDomains() {
        #expect(Punycode.asciiDomain("пример.рф") == "xn--e1afmkfd.xn--p1ai")
        #expect(Punycode.asciiDomain("mail.bücher.de") == "mail.xn--bcher-kva.de")
        #expect(Punycode.asciiDomain("example.org") == "example.org")
    }

    @Test("upper case and decomposed forms map first")
    func mapsBeforeEncoding() {
        #expect(Punycode.asciiDomain("BÜCHER.de") == "xn--bcher-kva.de")
        #expect(Punycode.asciiDomain("bu\u{0308}cher.de") == "xn--bcher-kva.de")
    }
}

@Suite("International addresses")
struct InternationalAddressTests {
    @Test("group members are returned")
    func groups() throws {
        let mailboxes = try AddressParser.parseList("Team: ana@example.org, Bob <bob@example.org>;, carol@example.org")
        #expect(mailboxes == [
            Mailbox(address: "ana@example.org"), Mailbox(displayName: "Bob", address: "bob@example.org"),
            Mailbox(address: "carol@example.org"),
        ])
        #expect(try AddressParser.parseList("undisclosed-recipients:;") == [])
    }

    @Test("unclosed group is rejected")
    func unclosedGroup() {
        let error = #expect(throws: AddressError.self) { try AddressParser.parseList("Team: ana@example.org") }
        #expect(error?.reason == "the group is not closed with ;")
    }

    @Test("ASCII local part with an international domain needs no SMTPUTF8")
    func internationalDomain() throws {
        let mailbox = try AddressParser.parseMailbox("Müller <info@bücher.de>")
        #expect(mailbox.requiresSMTPUTF8 == false)
        #expect(mailbox.asciiDomainAddress == "info@xn--bcher-kva.de")

        let composed = MessageComposer().compose(MailMessage(from: Mailbox(address: "shop@example.com"), to: [mailbox], subject: "x", text: "y"))
        #expect(composed.envelopeRecipients == ["info@xn--bcher-kva.de"])
        #expect(composed.requiresSMTPUTF8 == false)
        #expect(composed.bytes.allSatisfy { $0 < 0x80 })
    }

    @Test("UTF-8 local part needs SMTPUTF8 and keeps the domain")
    func internationalLocalPart() throws {
        let mailbox = try AddressParser.parseMailbox("аня@пример.рф")
        #expect(mailbox.requiresSMTPUTF8)

        let composed = MessageComposer().compose(MailMessage(from: Mailbox(address: "shop@example.com"), to: [mailbox], subject: "x", text: "y"))
        #expect(composed.requiresSMTPUTF8)
        #expect(composed.envelopeRecipients == ["аня@пример.рф"])
        #expect(String(decoding: composed.bytes, as: UTF8.self).contains("To: аня@пример.рф\r\n"))
    }
}
