import MIME
import TestSupport
import Testing

/// Random texts built from the pieces that stress the encoders: line starts with `.` and
/// `From `, trailing white space, `=`, lines just under and over 76 and 998 octets, mixed line
/// breaks, and multi-byte characters.
enum RandomText {
    static let asciiPieces = [
        "a", "word ", "Z9", " ", "  ", "\t", "=", "==", ".", "..", "From ", "?", "_", "=?", "?=", "\"", ",", "<b>",
        String(repeating: "w", count: 70), String(repeating: "q", count: 74), String(repeating: "L", count: 997),
    ]
    static let lineBreaks = ["\n", "\r\n", "\r", " \n", "\t\n", "=\n", "\n.", "\nFrom "]
    static let nonASCIIPieces = ["é", "€", "😀", "Ж", "中", "👩‍💻", "\u{0301}", "ß", "🇺🇦"]

    static func body(using generator: inout SeededGenerator, nonASCIIShare: Double) -> String {
        let pieceCount = Int.random(in: 0...400, using: &generator)
        var text = ""
        for _ in 0..<pieceCount {
            let roll = Double.random(in: 0..<1, using: &generator)
            if roll < 0.08 {
                text += lineBreaks.randomElement(using: &generator)!
            } else if roll < 0.08 + nonASCIIShare {
                text += nonASCIIPieces.randomElement(using: &generator)!
            } else {
                text += asciiPieces.randomElement(using: &generator)!
            }
        }
        return text
    }

    /// Makes subject text without line breaks or tabs, which a header field cannot carry as they are.
    static func subject(using generator: inout SeededGenerator) -> String {
        let pieces = asciiPieces.filter { $0.count < 80 && !$0.contains("\t") } + nonASCIIPieces
        let count = Int.random(in: 1...30, using: &generator)
        return (0..<count).map { _ in pieces.randomElement(using: &generator)! }.joined(separator: " ")
    }

    /// Makes a display name of words separated by single spaces, because a run of spaces between
    /// plain words means one space in an address field (RFC 5322 section 3.2.2).
    static func displayName(using generator: inout SeededGenerator) -> String {
        let pieces = asciiPieces.filter { $0.count < 80 && !$0.contains(" ") && !$0.contains("\t") } + nonASCIIPieces
        let count = Int.random(in: 1...12, using: &generator)
        return (0..<count).map { _ in pieces.randomElement(using: &generator)! }.joined(separator: " ")
    }
}

@Suite("Random messages parsed by Python")
struct RandomMessageTests {
    @Test("text and html parts decode exactly", arguments: 1...24)
    func multipart(seed: UInt64) async throws {
        var generator = SeededGenerator(seed: seed)
        let share = [0.0, 0.02, 0.3, 0.9][Int(seed % 4)]
        let text = RandomText.body(using: &generator, nonASCIIShare: share)
        let html = RandomText.body(using: &generator, nonASCIIShare: share)
        let subject = RandomText.subject(using: &generator)
        let message = MailMessage(
            from: Mailbox(address: "shop@example.com"), to: [Mailbox(address: "ana@example.org")], subject: subject,
            text: text, html: html)

        let parsed = try await composeAndParse(message)

        #expect(parsed.partContents == [crlfText(text), crlfText(html)])
        #expect(parsed.subject == subject)
    }

    @Test("single text part decodes exactly", arguments: 101...124)
    func singlePart(seed: UInt64) async throws {
        var generator = SeededGenerator(seed: seed)
        let text = RandomText.body(using: &generator, nonASCIIShare: [0.0, 0.02, 0.3, 0.9][Int(seed % 4)])
        let message = MailMessage(
            from: Mailbox(address: "shop@example.com"), to: [Mailbox(address: "ana@example.org")], subject: "x", text: text)

        let parsed = try await composeAndParse(message)

        // 7bit and quoted-printable text ends with the CRLF that closes its last line, but base64
        // carries the octets exactly.
        let canonical = crlfText(text)
        let encoding = parsed.parts.first?[path: "content_transfer_encoding"]?.stringValue
        let closesLastLine = encoding != "base64" && !canonical.isEmpty && !canonical.hasSuffix("\r\n")
        #expect(parsed.partContents == [closesLastLine ? canonical + "\r\n" : canonical])
    }

    @Test("display names decode exactly", arguments: 201...216)
    func displayNames(seed: UInt64) async throws {
        var generator = SeededGenerator(seed: seed)
        let recipients = (0..<Int.random(in: 1...4, using: &generator)).map { index in
            Mailbox(displayName: RandomText.displayName(using: &generator), address: "person\(index)@example.org")
        }
        let message = MailMessage(
            from: Mailbox(address: "shop@example.com"), to: recipients, subject: "x", text: "x")

        let parsed = try await composeAndParse(message)

        #expect(try await decodeMailboxes("To", in: parsed.composed.bytes) == recipients)
    }
}
