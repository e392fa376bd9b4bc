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
}
