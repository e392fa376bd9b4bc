import Testing

@testable import MIME

/// Relaxed canonicalization, checked against exact expected octets.
@Suite("DKIM relaxed canonicalization")
struct DKIMCanonicalizationTests {
    /// The example message of RFC 6376 section 3.4.5, which the RFC writes with <SP>, <HTAB>
    /// and <CRLF> for the invisible characters:
    ///
    ///     A: <SP> X <CRLF>
    ///     B <SP> : <SP> Y <HTAB><CRLF>
    ///     <HTAB> Z <SP><SP><CRLF>
    ///     <CRLF>
    ///     <SP> C <SP><CRLF>
    ///     D <SP><HTAB><SP> E <CRLF>
    ///     <CRLF>
    ///     <CRLF>
    static let rfcExample: [UInt8] = Array("A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n".utf8)

    func canonicalHeader(_ field: String) -> String {
        String(decoding: DKIMCanonicalization.relaxedHeader(Array(field.utf8)[...]), as: UTF8.self)
    }

    func canonicalBody(_ body: String) -> String {
        String(decoding: DKIMCanonicalization.relaxedBody(Array(body.utf8)[...]), as: UTF8.self)
    }

    @Test("RFC 6376 example header fields")
    func rfcExampleHeaders() throws {
        let message = try RawMessage(Self.rfcExample)

        #expect(message.fields.map(\.lowercasedName) == ["a", "b"])
        let canonical = message.fields.map { String(decoding: DKIMCanonicalization.relaxedHeader($0.bytes), as: UTF8.self) }

        // The RFC gives the relaxed result as "a:X <CRLF>" and "b:Y <SP> Z <CRLF>".
        #expect(canonical == ["a:X\r\n", "b:Y Z\r\n"])
    }

    @Test("RFC 6376 example body")
    func rfcExampleBody() throws {
        let message = try RawMessage(Self.rfcExample)

        // The RFC gives the relaxed result as "<SP> C <CRLF>" and "D <SP> E <CRLF>".
        #expect(String(decoding: DKIMCanonicalization.relaxedBody(message.body), as: UTF8.self) == " C\r\nD E\r\n")
    }

    @Test("RFC 6376 example header selection")
    func rfcExampleSelection() throws {
        let message = try RawMessage(Array("From: x@example.com\r\n".utf8) + Self.rfcExample)

        let selection = try DKIMHeaderSelection(lowercasedNames: ["a", "b", "from"], fields: message.fields)

        #expect(selection.tagNames == ["a", "b", "from", "from"])
        #expect(String(decoding: selection.canonicalizedFields, as: UTF8.self) == "a:X\r\nb:Y Z\r\nfrom:x@example.com\r\n")
    }

    @Test("header name case")
    func headerCase() {
        #expect(canonicalHeader("SUBJECT: Hello WORLD") == "subject:Hello WORLD\r\n")
        #expect(canonicalHeader("Content-Type: Text/Plain") == "content-type:Text/Plain\r\n")
    }

    @Test("header white space")
    func headerWhiteSpace() {
        #expect(canonicalHeader("Subject:NoSpace") == "subject:NoSpace\r\n")
        #expect(canonicalHeader("Subject: \t lots \t of   space \t ") == "subject:lots of space\r\n")
        #expect(canonicalHeader("Subject \t:value") == "subject:value\r\n")
        #expect(canonicalHeader("Subject:") == "subject:\r\n")
        #expect(canonicalHeader("Subject:   ") == "subject:\r\n")
    }

    @Test("folded header values are unfolded")
    func headerUnfolding() {
        #expect(canonicalHeader("To: a@example.org,\r\n b@example.org,\r\n\tc@example.org") == "to:a@example.org, b@example.org, c@example.org\r\n")
        #expect(canonicalHeader("Subject:\r\n folded at the start") == "subject:folded at the start\r\n")
        #expect(canonicalHeader("X-Hash: abc\r\n def") == "x-hash:abc def\r\n")
    }

    @Test("header octets beyond ASCII pass unchanged")
    func headerUTF8() {
        #expect(canonicalHeader("Subject:  Привет   мир ") == "subject:Привет мир\r\n")
    }

    @Test("body white space")
    func bodyWhiteSpace() {
        #expect(canonicalBody("a  b\t\tc \t\r\n") == "a b c\r\n")
        #expect(canonicalBody("\t indented\r\n") == " indented\r\n")
        #expect(canonicalBody("line\r\n \t \r\nline\r\n") == "line\r\n\r\nline\r\n")
    }

    @Test("trailing empty body lines")
    func bodyTrailingEmptyLines() {
        #expect(canonicalBody("text\r\n\r\n\r\n") == "text\r\n")
        #expect(canonicalBody("text\r\n \r\n\t\r\n") == "text\r\n")
        #expect(canonicalBody("\r\n\r\ntext\r\n") == "\r\n\r\ntext\r\n")
    }

    @Test("empty bodies canonicalize to nothing")
    func emptyBodies() {
        #expect(canonicalBody("") == "")
        #expect(canonicalBody("\r\n") == "")
        #expect(canonicalBody("\r\n\r\n  \r\n") == "")
    }

    @Test("body without a final CRLF gets one")
    func bodyWithoutFinalLineBreak() {
        #expect(canonicalBody("last line") == "last line\r\n")
        #expect(canonicalBody("last line  ") == "last line\r\n")
    }

    @Test("lone CR and LF are not line breaks")
    func bodyBareLineBreaks() {
        #expect(canonicalBody("a \nb\r\n") == "a \nb\r\n")
        #expect(canonicalBody("a\r b \r\n") == "a\r b\r\n")
    }

    @Test("message split into fields and body")
    func rawMessageSplit() throws {
        let message = try RawMessage(Array("From: a@example.com\r\nTo: b@example.org,\r\n c@example.org\r\nX-Empty:\r\n\r\nBody\r\n".utf8))

        #expect(message.fields.map(\.lowercasedName) == ["from", "to", "x-empty"])
        #expect(message.fields.map { String(decoding: $0.bytes, as: UTF8.self) } == [
            "From: a@example.com", "To: b@example.org,\r\n c@example.org", "X-Empty:",
        ])
        #expect(String(decoding: message.body, as: UTF8.self) == "Body\r\n")
    }

    @Test("message without body")
    func rawMessageWithoutBody() throws {
        let message = try RawMessage(Array("From: a@example.com\r\n\r\n".utf8))

        #expect(message.fields.count == 1)
        #expect(message.body.isEmpty)
    }
}
