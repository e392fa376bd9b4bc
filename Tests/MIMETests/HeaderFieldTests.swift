import MIME
import Testing

@Suite("HeaderField validation")
struct HeaderFieldTests {
    @Test(
        "accepts ordinary fields",
        arguments: [
            HeaderField(name: "List-Unsubscribe", value: "<mailto:unsubscribe@example.com>"),
            HeaderField(name: "X-Campaign", value: "Весна 🌷"),
            HeaderField(name: "X-Empty", value: ""),
            HeaderField(name: "X-Max", value: String(repeating: "v", count: 16_384)),
            HeaderField(name: "!#$%&'*+-.^_`|~", value: "all printable name characters"),
        ])
    func accepts(field: HeaderField) {
        #expect(throws: Never.self) { try field.validate() }
    }

    @Test("rejects line breaks in the value", arguments: ["a\r\nBcc: evil@example.org", "a\nb", "a\rb", "end\r\n"])
    func rejectsLineBreaks(value: String) {
        let error = #expect(throws: HeaderFieldError.self) { try HeaderField(name: "X-Note", value: value).validate() }
        #expect(
            error?.description
                == #"Invalid header "X-Note": the value contains a line break (CR or LF), which could inject header fields."#)
    }

    @Test("rejects bad names", arguments: ["", "X Note", "X:Note", "X-Note:", "X-Nöte", "X\tNote", "X\r\nBcc", "X-\u{7F}"])
    func rejectsBadNames(name: String) {
        let error = #expect(throws: HeaderFieldError.self) { try HeaderField(name: name, value: "v").validate() }
        #expect(
            error?.description
                == "Invalid header \"\(name)\": a header name may contain only printable ASCII characters other than ':'.")
    }

    @Test(
        "rejects names the composer owns",
        arguments: [
            "From", "To", "Cc", "Bcc", "BCC", "reply-to", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
            "content-transfer-encoding",
        ])
    func rejectsComposerOwned(name: String) {
        let error = #expect(throws: HeaderFieldError.self) { try HeaderField(name: name, value: "v").validate() }
        #expect(
            error?.description
                == "Invalid header \"\(name)\": this header is set from the document's own fields and cannot be replaced through headers.")
    }

    @Test("rejects values over 16384 octets")
    func rejectsLongValue() {
        let field = HeaderField(name: "X-Long", value: String(repeating: "é", count: 8_193))
        let error = #expect(throws: HeaderFieldError.self) { try field.validate() }
        #expect(error?.description == #"Invalid header "X-Long": the value is longer than 16384 octets."#)
    }

    @Test("composer-owned names are lower case")
    func composerOwnedNames() {
        #expect(HeaderField.composerOwnedNames.allSatisfy { $0 == $0.lowercased() })
        #expect(HeaderField.composerOwnedNames.count == 11)
    }

    @Test("long ASCII value stays as written")
    func longASCIIValueStaysPlain() throws {
        let url = "<https://example.com/unsubscribe?token=" + String(repeating: "a1b2", count: 50) + ">"
        let message = MailMessage(
            from: Mailbox(address: "shop@example.com"), to: [Mailbox(address: "ana@example.org")], subject: "x", text: "y",
            extraHeaders: [HeaderField(name: "List-Unsubscribe", value: url), HeaderField(name: "List-Unsubscribe-Post", value: "List-Unsubscribe=One-Click")])
        let text = String(decoding: MessageComposer().compose(message).bytes, as: UTF8.self)

        #expect(text.contains("List-Unsubscribe:\r\n \(url)\r\n") || text.contains("List-Unsubscribe: \(url)\r\n"))
        #expect(!text.contains("=?UTF-8?"))
    }

    @Test("header name over 76 characters is rejected")
    func longNameRejected() {
        let field = HeaderField(name: "X-" + String(repeating: "A", count: 75), value: "1")
        let error = #expect(throws: HeaderFieldError.self) { try field.validate() }
        #expect(error?.reason == "a header name may be at most 76 characters long, so that the field starts on one line")
    }
}
