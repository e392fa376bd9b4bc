import DocumentStore
import Foundation
import MIME
import TestSupport
import Testing

@testable import TriggerEmail

/// Random mail documents with random Unicode in every field, including the characters that
/// break naive composers: CR, LF, quotes, commas, angle brackets, `=?`, leading dots.
private struct RandomDocuments {
    var generator: SeededGenerator

    static let pieces = [
        "a", "Ana", " ", "  ", "\t", "\r", "\n", "\r\n", ".", "..", "From ", "=", "=?", "?=", "=?UTF-8?B?", "\"", "\\", ",", ";", ":",
        "<", ">", "@", "(", ")", "[", "]", "Bcc: evil@example.net", "é", "€", "Ж", "中", "😀", "👩‍💻", "\u{0301}", "\u{200B}", "\u{0}",
        "\u{7F}", "ß", "🇺🇦", String(repeating: "w", count: 80), String(repeating: "x", count: 1000),
    ]

    mutating func text(maxPieces: Int) -> String {
        let count = Int.random(in: 0...maxPieces, using: &generator)
        return (0..<count).map { _ in Self.pieces.randomElement(using: &generator)! }.joined()
    }

    mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &generator) < probability
    }

    /// Makes an address field: usually valid mailboxes with random display names, sometimes
    /// garbage.
    mutating func addresses(tag: String) -> JSONValue {
        let count = Int.random(in: 1...3, using: &generator)
        let mailboxes: [JSONValue] = (0..<count).map { index in
            let address = "\(tag)\(index)-\(Int.random(in: 0..<1_000_000, using: &generator))@example.org"
            if chance(0.01) { return .string(text(maxPieces: 6)) }
            if chance(0.3) { return .string(address) }
            var name = text(maxPieces: 8).replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: "\\", with: "/")
            if !chance(0.05) { name = name.filter { !$0.isNewline && $0 != "\u{0}" && $0 != "\u{7F}" } }
            return .string("\"\(name)\" <\(address)>")
        }
        return chance(0.5) && count == 1 ? mailboxes[0] : .array(mailboxes)
    }

    mutating func document() -> JSONObject {
        var subject = text(maxPieces: 20)
        if !chance(0.05) { subject = subject.filter { $0 != "\u{0}" && $0 != "\u{7F}" } }
        var message: JSONObject = ["subject": .string(subject)]
        if chance(0.8) { message["text"] = .string(text(maxPieces: 300)) }
        if chance(0.6) || message["text"] == nil { message["html"] = .string("<p>" + text(maxPieces: 200) + "</p>") }
        if chance(0.1), message["html"] != nil { message["amp"] = .string("<html ⚡4email>" + text(maxPieces: 20) + "</html>") }

        var fields: JSONObject = ["from": .string("Shop <shop@example.com>"), "message": .object(message), "to": addresses(tag: "to")]
        if chance(0.5) { fields["cc"] = addresses(tag: "cc") }
        if chance(0.5) { fields["bcc"] = addresses(tag: "bcc") }
        if chance(0.3) { fields["replyTo"] = .string("Support \(text(maxPieces: 3)) <help@example.com>") }
        if chance(0.4) {
            var headers: JSONObject = [:]
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let name = chance(0.02) ? "Bcc" : ["X-Tag", "List-Unsubscribe", "X-Campaign", "X-Priority"].randomElement(using: &generator)!
                let value = chance(0.05) ? text(maxPieces: 10) : text(maxPieces: 10).filter { !$0.isNewline && $0 != "\u{0}" && $0 != "\u{7F}" }
                headers[name] = .string(value)
            }
            fields["headers"] = .object(headers)
        }
        return fields
    }
}

@Suite("Random documents")
struct RandomDocumentPropertyTests {
    static let documentCount = 10_000

    /// Every random document either fails validation with a message or composes into a message
    /// that Python reads without a defect. Such a message has no line over 998 octets, no bare CR
    /// or LF, no header field beyond those expected, and no Bcc recipient outside the envelope.
    @Test("10,000 random documents compose safely")
    func randomDocumentsComposeSafely() async throws {
        // Composing 10,000 messages takes seconds of CPU, so it runs on a thread of its own
        // instead of holding one of the few threads that every other test shares.
        let (composed, rejected, emptyMessages) = await withCheckedContinuation { continuation in
            Thread {
                continuation.resume(returning: Self.composeRandomDocuments())
            }.start()
        }
        #expect(emptyMessages == 0, "every rejection has a message")
        #expect(composed.count + rejected == Self.documentCount)
        #expect(composed.count > Self.documentCount / 2, "most random documents are valid")

        let records = try await PythonEmailParser.parseAll(composed.map(\.bytes))
        var failures = 0
        for (entry, record) in zip(composed, records) where !check(entry.message, bytes: entry.bytes, envelope: entry.envelope, record: record) {
            failures += 1
            if failures <= 3 {
                Issue.record("unsafe message for document \(JSONValue.object(entry.document).serialized())")
            }
        }
        #expect(failures == 0)
    }

    typealias ComposedDocument = (document: JSONObject, message: MailMessage, bytes: [UInt8], envelope: [String])

    private static func composeRandomDocuments() -> ([ComposedDocument], rejected: Int, emptyMessages: Int) {
        var random = RandomDocuments(generator: SeededGenerator(seed: 20_261_204))
        let builder = MessageBuilder(defaultFrom: nil, defaultReplyTo: nil)
        let composer = MessageComposer()

        var composed: [ComposedDocument] = []
        var rejected = 0
        var emptyMessages = 0
        for _ in 0..<documentCount {
            let document = random.document()
            do {
                let mail = try MailDocument(fields: document)
                let message = try builder.build(
                    mail, message: mail.message ?? MailDocument.Message(), recipients: .init(to: mail.to, cc: mail.cc, bcc: mail.bcc))
                let result = composer.compose(message)
                composed.append((document, message, result.bytes, result.envelopeRecipients))
            } catch {
                rejected += 1
                if error.message.isEmpty { emptyMessages += 1 }
            }
        }
        return (composed, rejected, emptyMessages)
    }

    private func check(_ message: MailMessage, bytes: [UInt8], envelope: [String], record: JSONValue) -> Bool {
        let parsed = record[path: "parsed"] ?? .null
        var isSafe = true

        func require(_ condition: Bool, _ what: String) {
            if !condition {
                isSafe = false
                Issue.record("\(what)")
            }
        }

        // A UTF-8 local part makes a message for SMTPUTF8 servers only (RFC 6532 header fields),
        // which Python's default policy reports as defects although the message is as intended.
        if !message.requiresSMTPUTF8 {
            require(parsed[path: "defects"] == [], "defects: \(parsed[path: "defects"]?.serialized() ?? "")")
        }
        require((record[path: "max_line_length"]?.numberValue ?? 9999) <= 998, "a line is longer than 998 octets")
        require(record[path: "bare_line_feeds"] == 0, "a bare CR or LF")
        require(parsed[path: "bcc"] == .null, "a Bcc header field")

        let allowed = Set(["date", "from", "reply-to", "to", "cc", "subject", "message-id", "mime-version", "content-type", "content-transfer-encoding"])
            .union(message.extraHeaders.map { $0.name.lowercased() })
        let names = (parsed[path: "headers"]?.arrayValue ?? []).compactMap { $0.arrayValue?.first?.stringValue?.lowercased() }
        require(Set(names).isSubset(of: allowed), "unexpected header fields \(Set(names).subtracting(allowed))")
        require(names.filter { $0 == "subject" }.count == 1, "not exactly one Subject")
        require(parsed[path: "subject"]?.stringValue == message.subject, "the subject does not decode exactly: \(message.subject.debugDescription) read as \(parsed[path: "subject"]?.stringValue?.debugDescription ?? "nothing")")

        let visible = Set(([message.from] + message.replyTo + message.to + message.cc).map { $0.address.lowercased() })
        for bcc in message.bcc where !visible.contains(bcc.address.lowercased()) {
            require(bytes.firstRange(of: Array(bcc.address.utf8)) == nil, "a Bcc address appears in the message")
            require(envelope.contains(bcc.address), "a Bcc address is missing from the envelope")
        }
        return isSafe
    }
}
