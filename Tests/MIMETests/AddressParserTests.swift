import MIME
import Testing

/// An input and the mailbox it must parse to.
struct MailboxCase: Sendable, CustomTestStringConvertible {
    var input: String
    var expected: Mailbox

    init(_ input: String, _ displayName: String?, _ address: String) {
        self.input = input
        self.expected = Mailbox(displayName: displayName, address: address)
    }

    var testDescription: String { input.debugDescription }
}

/// An input that must be rejected, with the reason the error gives.
struct RejectedAddressCase: Sendable, CustomTestStringConvertible {
    var input: String
    var reason: String

    init(_ input: String, _ reason: String) {
        self.input = input
        self.reason = reason
    }

    var testDescription: String { input.debugDescription }
}

@Suite("AddressParser")
struct AddressParserTests {
    static let longestLabel = String(repeating: "d", count: 63)

    @Test(
        "single mailboxes",
        arguments: [
            MailboxCase("ana@example.org", nil, "ana@example.org"),
            MailboxCase("  ana@example.org \n", nil, "ana@example.org"),
            MailboxCase("ANA+tag@Sub.Example.co.uk", nil, "ANA+tag@Sub.Example.co.uk"),
            MailboxCase("o'brien.x_y-z!#$%&*/=?^`{|}~@example.org", nil, "o'brien.x_y-z!#$%&*/=?^`{|}~@example.org"),
            MailboxCase(#""ana lima"@example.org"#, nil, #""ana lima"@example.org"#),
            MailboxCase("ana@[127.0.0.1]", nil, "ana@[127.0.0.1]"),
            MailboxCase("ana@[IPv6:2001:db8::1]", nil, "ana@[IPv6:2001:db8::1]"),
            MailboxCase("<ana@example.org>", nil, "ana@example.org"),
            MailboxCase("Ana Lima <ana@example.org>", "Ana Lima", "ana@example.org"),
            MailboxCase("Ana<ana@example.org>", "Ana", "ana@example.org"),
            MailboxCase("  Ana   Lima  < ana@example.org >  ", "Ana   Lima", "ana@example.org"),
            MailboxCase("Ана Каренина <anna@example.org>", "Ана Каренина", "anna@example.org"),
            MailboxCase("王小明 <wang@example.cn>", "王小明", "wang@example.cn"),
            MailboxCase("🎉 Party <party@example.org>", "🎉 Party", "party@example.org"),
            MailboxCase("ana(comment)@example.org", nil, "ana@example.org"),
            MailboxCase("ana@example.org (Ana Lima)", "Ana Lima", "ana@example.org"),
            MailboxCase("ana@example.org (outer (nested) comment)", "outer (nested) comment", "ana@example.org"),
            MailboxCase("(lead) Ana (mid) <ana@example.org> (tail)", "Ana", "ana@example.org"),
            MailboxCase(#""Doe" Jane <jane@example.org>"#, "Doe Jane", "jane@example.org"),
            MailboxCase("John Q. Public <john@example.org>", "John Q. Public", "john@example.org"),
            MailboxCase("аня@пример.рф", nil, "аня@пример.рф"),
            MailboxCase("ana@bücher.de", nil, "ana@bücher.de"),
        ])
    func singleMailbox(_ mailboxCase: MailboxCase) throws {
        #expect(try AddressParser.parseMailbox(mailboxCase.input) == mailboxCase.expected)
    }

    @Test(
        "quoted display names",
        arguments: [
            MailboxCase(#""Doe, Jane" <jane@example.org>"#, "Doe, Jane", "jane@example.org"),
            MailboxCase(#""Jane \"JJ\" Doe" <jane@example.org>"#, #"Jane "JJ" Doe"#, "jane@example.org"),
            MailboxCase(#""Back\\slash" <b@example.org>"#, #"Back\slash"#, "b@example.org"),
            MailboxCase(#""<not> an address" <ana@example.org>"#, "<not> an address", "ana@example.org"),
            MailboxCase(#""" <ana@example.org>"#, nil, "ana@example.org"),
        ])
    func quotedDisplayName(_ mailboxCase: MailboxCase) throws {
        #expect(try AddressParser.parseMailbox(mailboxCase.input) == mailboxCase.expected)
    }

    @Test("list of mailboxes")
    func list() throws {
        let mailboxes = try AddressParser.parseList(
            #"ana@example.org, "Doe, Jane" <jane@example.org>,Bob <bob@example.net> , "Jane \"The, Boss\" Doe" <boss@example.org>"#)

        #expect(
            mailboxes == [
                Mailbox(address: "ana@example.org"),
                Mailbox(displayName: "Doe, Jane", address: "jane@example.org"),
                Mailbox(displayName: "Bob", address: "bob@example.net"),
                Mailbox(displayName: #"Jane "The, Boss" Doe"#, address: "boss@example.org"),
            ])
    }

    @Test("list skips empty items")
    func listSkipsEmptyItems() throws {
        #expect(try AddressParser.parseList("ana@example.org,, ,bob@example.net,") == [
            Mailbox(address: "ana@example.org"), Mailbox(address: "bob@example.net"),
        ])
        #expect(try AddressParser.parseList("").isEmpty)
    }

    @Test("list error names the bad item")
    func listErrorNamesItem() {
        let error = #expect(throws: AddressError.self) { try AddressParser.parseList("ana@example.org, bob.example.net") }
        #expect(error?.description == #"Invalid email address "bob.example.net": it has no @."#)
    }

    @Test("list with an unclosed quote")
    func listUnclosedQuote() {
        let input = #"ana@example.org, "Doe, Jane <jane@example.org>"#
        let error = #expect(throws: AddressError.self) { try AddressParser.parseList(input) }
        #expect(error?.description == "Invalid email address \"\(input)\": a quote is not closed.")
    }

    @Test(
        "rejections",
        arguments: [
            RejectedAddressCase("", "it is empty"),
            RejectedAddressCase(" \t ", "it is empty"),
            RejectedAddressCase("ana.example.org", "it has no @"),
            RejectedAddressCase("Ana <ana.example.org>", "it has no @"),
            RejectedAddressCase("@example.org", "nothing comes before the @"),
            RejectedAddressCase("ana@", "the domain after the @ is missing"),
            RejectedAddressCase(String(repeating: "a", count: 65) + "@example.org", "the local part is longer than 64 octets"),
            RejectedAddressCase(
                "a@" + Array(repeating: longestLabel, count: 4).joined(separator: ".") + ".d",
                "the domain is longer than 255 octets"),
            RejectedAddressCase(#""ana@example.org"#, "a quote is not closed"),
            RejectedAddressCase("\"a\u{01}b\"@example.org", "the quoted local part is malformed"),
            RejectedAddressCase("\"a\r\nb\"@example.org", "the quoted local part is malformed"),
            RejectedAddressCase("ana..lima@example.org", "the local part has an empty part between dots"),
            RejectedAddressCase(".ana@example.org", "the local part has an empty part between dots"),
            RejectedAddressCase("ana.@example.org", "the local part has an empty part between dots"),
            RejectedAddressCase("ana lima@example.org", "the local part contains a character that must be quoted"),
            RejectedAddressCase(#"a"b@example.org"#, "a quote is not closed"),
            RejectedAddressCase("ana@example.org (unclosed", "a comment is not closed with )"),
            RejectedAddressCase("Ana <ana@example.org", "the angle bracket after the address is not closed with >"),
            RejectedAddressCase("a\u{7F}b@example.org", "the local part contains a character that must be quoted"),
            RejectedAddressCase("ana\r\nbcc@example.org", "the local part contains a character that must be quoted"),
            RejectedAddressCase("ana@[127.0.0.1", "the address literal is not closed with ]"),
            RejectedAddressCase("ana@[]", "the address literal is not closed with ]"),
            RejectedAddressCase("ana@[127.0.0.1]\r\nBcc: [evil]", "unexpected text after the address"),
            RejectedAddressCase(
                "ana@[127.0.0.1 ]", #"the address literal may contain only printable ASCII characters other than [, ] and \"#),
            RejectedAddressCase(
                "ana@[a[b]", #"the address literal may contain only printable ASCII characters other than [, ] and \"#),
            RejectedAddressCase("ana@example..org", #"the domain "example..org" has an empty or over-long label"#),
            RejectedAddressCase("ana@example.org.", #"the domain "example.org." has an empty or over-long label"#),
            RejectedAddressCase(
                "ana@\(longestLabel)d.org", "the domain \"\(longestLabel)d.org\" has an empty or over-long label"),
            RejectedAddressCase(
                "ana@exa_mple.org", #"the domain "exa_mple.org" may contain only letters, digits, hyphens and dots"#),
            RejectedAddressCase(
                "ana@-example.org", #"the domain "-example.org" may contain only letters, digits, hyphens and dots"#),
            RejectedAddressCase(
                "ana@example-.org", #"the domain "example-.org" may contain only letters, digits, hyphens and dots"#),
            RejectedAddressCase(
                "ana@exa\r\nmple.org", "the domain \"exa\r\nmple.org\" may contain only letters, digits, hyphens and dots"),
            RejectedAddressCase("Ana\nLima <ana@example.org>", "the display name contains a line break"),
            RejectedAddressCase("Ana\r\nBcc: evil@example.org <ana@example.org>", "the display name contains a line break"),
            RejectedAddressCase("Ana <ana@example.org> extra", "unexpected text after the address"),
        ])
    func rejection(_ rejected: RejectedAddressCase) {
        let error = #expect(throws: AddressError.self) { try AddressParser.parseMailbox(rejected.input) }
        #expect(error?.description == "Invalid email address \"\(rejected.input)\": \(rejected.reason).")
    }

    @Test("longest local part and domain are accepted")
    func longestParts() throws {
        let localPart = String(repeating: "a", count: 64)
        let domain = Array(repeating: Self.longestLabel, count: 4).joined(separator: ".")
        #expect(domain.utf8.count == 255)

        let mailbox = try AddressParser.parseMailbox("\(localPart)@\(domain)")
        #expect(mailbox.address == "\(localPart)@\(domain)")
    }

    @Test("mailbox parts and description")
    func mailboxParts() {
        let mailbox = Mailbox(displayName: "Ана", address: #""a@b"@example.org"#)
        #expect(mailbox.localPart == #""a@b""#)
        #expect(mailbox.domain == "example.org")
        #expect(mailbox.description == #"Ана <"a@b"@example.org>"#)
        #expect(Mailbox(displayName: "", address: "ana@example.org").description == "ana@example.org")
        #expect(Mailbox(address: "no-at-sign").domain == "")
    }
}
