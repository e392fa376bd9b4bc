import DocumentStore
import Foundation
import MIME
import TestSupport
import Testing

/// What one leaf part must look like after Python's `email` package parsed it.
struct ExpectedPart: Sendable {
    enum Content: Sendable {
        /// Decoded text, compared exactly.
        case text(String)
        /// Decoded bytes, compared exactly.
        case bytes([UInt8])
    }

    var contentType: String
    var content: Content
    var filename: String? = nil
    var contentID: String? = nil
    var disposition: String? = nil
}

/// One message of the corpus: what the composer gets and what a reader must find.
struct CorpusCase: Sendable, CustomTestStringConvertible {
    var name: String
    var message: MailMessage
    var topContentType: String
    var parts: [ExpectedPart]
    var subject: String? = nil
    var headers: [String: String] = [:]

    var testDescription: String { name }
}

private let shop = Mailbox(displayName: "Shop", address: "shop@example.com")
private let ana = Mailbox(displayName: "Ana", address: "ana@example.org")
private let pngBytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<200).map { UInt8($0 % 256) }
private let everyByte: [UInt8] = (0...255).map(UInt8.init)

private func message(
    subject: String = "Corpus", text: String? = nil, html: String? = nil, amp: String? = nil, attachments: [MIME.Attachment] = [],
    to: [Mailbox] = [ana], cc: [Mailbox] = [], bcc: [Mailbox] = [], replyTo: [Mailbox] = [], headers: [HeaderField] = []
) -> MailMessage {
    MailMessage(
        from: shop, replyTo: replyTo, to: to, cc: cc, bcc: bcc, subject: subject, text: text, html: html, amp: amp,
        attachments: attachments, extraHeaders: headers)
}

private func file(_ name: String?, _ type: String, _ content: [UInt8], inline: Bool = false, cid: String? = nil, headers: [HeaderField] = []) -> MIME.Attachment {
    MIME.Attachment(filename: name, contentType: type, disposition: inline ? .inline : .attachment, contentID: cid, headers: headers, content: content)
}

/// Text as a reader gets it back from a multipart body: CRLF line breaks.
private func partText(_ text: String) -> ExpectedPart.Content { .text(crlfText(text)) }

private let plain = "text/plain"
private let htmlType = "text/html"

let corpus: [CorpusCase] = [
    CorpusCase(name: "text and html", message: message(text: "Hello\n", html: "<p>Hello</p>"), topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: partText("Hello\n")), ExpectedPart(contentType: htmlType, content: .text("<p>Hello</p>"))]),
    CorpusCase(name: "text, AMP and html in that order", message: message(text: "t", html: "<p>h</p>", amp: "<!doctype html><html ⚡4email><body>a</body></html>"),
        topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: .text("t")), ExpectedPart(contentType: "text/x-amp-html", content: .text("<!doctype html><html ⚡4email><body>a</body></html>")),
                ExpectedPart(contentType: htmlType, content: .text("<p>h</p>"))]),
    CorpusCase(name: "Cyrillic text and html", message: message(subject: "Ваш заказ подтверждён", text: "Здравствуйте!\nСпасибо.\n", html: "<h1>Заказ</h1>"),
        topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: partText("Здравствуйте!\nСпасибо.\n")), ExpectedPart(contentType: htmlType, content: .text("<h1>Заказ</h1>"))],
        subject: "Ваш заказ подтверждён"),
    CorpusCase(name: "Chinese text", message: message(subject: "您的订单已确认", text: "感谢您的购买。我们会尽快发货。", html: "<p>感谢</p>"), topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: .text("感谢您的购买。我们会尽快发货。")), ExpectedPart(contentType: htmlType, content: .text("<p>感谢</p>"))],
        subject: "您的订单已确认"),
    CorpusCase(name: "emoji subject and body", message: message(subject: "🎉 Party 🥳 tonight 👨‍👩‍👧‍👦", text: "Bring 🍕 and 🎂\n", html: "<b>🎈</b>"),
        topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: partText("Bring 🍕 and 🎂\n")), ExpectedPart(contentType: htmlType, content: .text("<b>🎈</b>"))],
        subject: "🎉 Party 🥳 tonight 👨‍👩‍👧‍👦"),
    CorpusCase(name: "mixed scripts right to left", message: message(subject: "שלום مرحبا Hello", text: "עברית ו العربية\n", html: "<p dir=\"rtl\">مرحبا</p>"),
        topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: partText("עברית ו العربية\n")), ExpectedPart(contentType: htmlType, content: .text("<p dir=\"rtl\">مرحبا</p>"))],
        subject: "שלום مرحبا Hello"),
    CorpusCase(name: "2000-character word in the subject", message: message(subject: String(repeating: "x", count: 2000), text: "a", html: "b"),
        topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: .text("a")), ExpectedPart(contentType: htmlType, content: .text("b"))],
        subject: String(repeating: "x", count: 2000)),
    CorpusCase(name: "5000-character line", message: message(text: String(repeating: "long line ", count: 500), html: "<p>x</p>"),
        topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: .text(String(repeating: "long line ", count: 500))), ExpectedPart(contentType: htmlType, content: .text("<p>x</p>"))]),
    CorpusCase(name: "html line over 998 octets", message: message(text: "t", html: "<p>" + String(repeating: "é", count: 1500) + "</p>"),
        topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: .text("t")), ExpectedPart(contentType: htmlType, content: .text("<p>" + String(repeating: "é", count: 1500) + "</p>"))]),
    CorpusCase(name: "lines starting with a dot and From", message: message(text: ".\n..\n.hidden\nFrom here\nFrom: header-like\n", html: ".<br>\nFrom x"),
        topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: partText(".\n..\n.hidden\nFrom here\nFrom: header-like\n")), ExpectedPart(contentType: htmlType, content: partText(".<br>\nFrom x"))]),
    CorpusCase(name: "trailing spaces and tabs", message: message(text: "space at end \ntab at end\t\n \t\nend", html: "x"),
        topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: partText("space at end \ntab at end\t\n \t\nend")), ExpectedPart(contentType: htmlType, content: .text("x"))]),
    CorpusCase(name: "CR-only and mixed line breaks", message: message(text: "one\rtwo\r\nthree\nfour", html: "x"),
        topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: .text("one\r\ntwo\r\nthree\r\nfour")), ExpectedPart(contentType: htmlType, content: .text("x"))]),
    CorpusCase(name: "empty text beside html", message: message(text: "", html: "<p>only html</p>"), topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: .text("")), ExpectedPart(contentType: htmlType, content: .text("<p>only html</p>"))]),
    CorpusCase(name: "text with a NUL and control characters", message: message(text: "a\u{0}b\u{7}c\u{1B}[0m", html: "x"),
        topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: .text("a\u{0}b\u{7}c\u{1B}[0m")), ExpectedPart(contentType: htmlType, content: .text("x"))]),
    CorpusCase(name: "attachment of text", message: message(text: "see file", attachments: [file("notes.txt", "text/plain; charset=utf-8", Array("первая\nвторая\n".utf8))]),
        topContentType: "multipart/mixed",
        parts: [ExpectedPart(contentType: plain, content: .text("see file")),
                ExpectedPart(contentType: plain, content: .text("первая\nвторая\n"), filename: "notes.txt", disposition: "attachment")]),
    CorpusCase(name: "attachment with every byte", message: message(text: "bytes", attachments: [file("all.bin", "application/octet-stream", everyByte)]),
        topContentType: "multipart/mixed",
        parts: [ExpectedPart(contentType: plain, content: .text("bytes")),
                ExpectedPart(contentType: "application/octet-stream", content: .bytes(everyByte), filename: "all.bin", disposition: "attachment")]),
    CorpusCase(name: "Cyrillic file name", message: message(text: "счёт", attachments: [file("Счёт №42 за декабрь.pdf", "application/pdf", Array("%PDF-1.4".utf8))]),
        topContentType: "multipart/mixed",
        parts: [ExpectedPart(contentType: plain, content: .text("счёт")),
                ExpectedPart(contentType: "application/pdf", content: .bytes(Array("%PDF-1.4".utf8)), filename: "Счёт №42 за декабрь.pdf", disposition: "attachment")]),
    CorpusCase(name: "long Chinese file name", message: message(text: "附件", attachments: [file(String(repeating: "年度财务报告", count: 12) + ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", [1, 2, 3])]),
        topContentType: "multipart/mixed",
        parts: [ExpectedPart(contentType: plain, content: .text("附件")),
                ExpectedPart(contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", content: .bytes([1, 2, 3]),
                             filename: String(repeating: "年度财务报告", count: 12) + ".xlsx", disposition: "attachment")]),
    CorpusCase(name: "emoji file name", message: message(text: "pic", attachments: [file("🎉 party.png", "image/png", pngBytes)]),
        topContentType: "multipart/mixed",
        parts: [ExpectedPart(contentType: plain, content: .text("pic")), ExpectedPart(contentType: "image/png", content: .bytes(pngBytes), filename: "🎉 party.png", disposition: "attachment")]),
    CorpusCase(name: "file name with quotes and backslash", message: message(text: "q", attachments: [file(#"my "best" \ file.txt"#, "text/plain", Array("x".utf8))]),
        topContentType: "multipart/mixed",
        parts: [ExpectedPart(contentType: plain, content: .text("q")), ExpectedPart(contentType: plain, content: .text("x"), filename: #"my "best" \ file.txt"#, disposition: "attachment")]),
    CorpusCase(name: "100-character ASCII file name", message: message(text: "long", attachments: [file(String(repeating: "report-", count: 14) + "00.csv", "text/csv", Array("a,b\r\n1,2\r\n".utf8))]),
        topContentType: "multipart/mixed",
        parts: [ExpectedPart(contentType: plain, content: .text("long")),
                ExpectedPart(contentType: "text/csv", content: .text("a,b\r\n1,2\r\n"), filename: String(repeating: "report-", count: 14) + "00.csv", disposition: "attachment")]),
    CorpusCase(name: "inline image referenced by cid", message: message(text: "logo", html: #"<img src="cid:logo@shop">"#, attachments: [file("logo.png", "image/png", pngBytes, inline: true, cid: "logo@shop")]),
        topContentType: "multipart/related",
        parts: [ExpectedPart(contentType: plain, content: .text("logo")), ExpectedPart(contentType: htmlType, content: .text(#"<img src="cid:logo@shop">"#)),
                ExpectedPart(contentType: "image/png", content: .bytes(pngBytes), filename: "logo.png", contentID: "<logo@shop>", disposition: "inline")]),
    CorpusCase(name: "two inline images and an attachment", message: message(text: "t", html: #"<img src="cid:a"><img src="cid:b">"#,
            attachments: [file("a.png", "image/png", pngBytes, inline: true, cid: "a"), file("terms.pdf", "application/pdf", [9, 9]), file("b.gif", "image/gif", Array("GIF89a".utf8), inline: true, cid: "b")]),
        topContentType: "multipart/mixed",
        parts: [ExpectedPart(contentType: plain, content: .text("t")), ExpectedPart(contentType: htmlType, content: .text(#"<img src="cid:a"><img src="cid:b">"#)),
                ExpectedPart(contentType: "image/png", content: .bytes(pngBytes), filename: "a.png", contentID: "<a>", disposition: "inline"),
                ExpectedPart(contentType: "image/gif", content: .bytes(Array("GIF89a".utf8)), filename: "b.gif", contentID: "<b>", disposition: "inline"),
                ExpectedPart(contentType: "application/pdf", content: .bytes([9, 9]), filename: "terms.pdf", disposition: "attachment")]),
    CorpusCase(name: "html only with inline image", message: message(html: #"<img src="cid:x">"#, attachments: [file("x.png", "image/png", pngBytes, inline: true, cid: "x")]),
        topContentType: "multipart/related",
        parts: [ExpectedPart(contentType: htmlType, content: .text(#"<img src="cid:x">"#)), ExpectedPart(contentType: "image/png", content: .bytes(pngBytes), filename: "x.png", contentID: "<x>", disposition: "inline")]),
    CorpusCase(name: "inline part without cid goes to mixed", message: message(text: "t", attachments: [file("sig.txt", "text/plain", Array("--\nAna".utf8), inline: true)]),
        topContentType: "multipart/mixed",
        parts: [ExpectedPart(contentType: plain, content: .text("t")), ExpectedPart(contentType: plain, content: .text("--\nAna"), filename: "sig.txt", disposition: "inline")]),
    CorpusCase(name: "attachment without file name", message: message(text: "t", attachments: [file(nil, "application/json", Array(#"{"a":1}"#.utf8))]),
        topContentType: "multipart/mixed",
        parts: [ExpectedPart(contentType: plain, content: .text("t")), ExpectedPart(contentType: "application/json", content: .bytes(Array(#"{"a":1}"#.utf8)), disposition: "attachment")]),
    CorpusCase(name: "empty attachment", message: message(text: "t", attachments: [file("empty.dat", "application/octet-stream", [])]),
        topContentType: "multipart/mixed",
        parts: [ExpectedPart(contentType: plain, content: .text("t")), ExpectedPart(contentType: "application/octet-stream", content: .bytes([]), filename: "empty.dat", disposition: "attachment")]),
    CorpusCase(name: "one-megabyte attachment", message: message(text: "big", attachments: [file("big.bin", "application/octet-stream", (0..<1_048_576).map { UInt8(truncatingIfNeeded: $0 &* 31) })]),
        topContentType: "multipart/mixed",
        parts: [ExpectedPart(contentType: plain, content: .text("big")),
                ExpectedPart(contentType: "application/octet-stream", content: .bytes((0..<1_048_576).map { UInt8(truncatingIfNeeded: $0 &* 31) }), filename: "big.bin", disposition: "attachment")]),
    CorpusCase(name: "raw part as given", message: message(text: "raw", attachments: [MIME.Attachment.raw(Array("Content-Type: text/calendar; method=REQUEST; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR".utf8))]),
        topContentType: "multipart/mixed",
        parts: [ExpectedPart(contentType: plain, content: .text("raw")), ExpectedPart(contentType: "text/calendar", content: .text("BEGIN:VCALENDAR\r\nEND:VCALENDAR"))]),
    CorpusCase(name: "forwarded message attachment", message: message(text: "fwd", attachments: [file("original.eml", "message/rfc822", Array("From: a@example.org\nSubject: Old\n\nOld body\n".utf8))]),
        topContentType: "multipart/mixed",
        parts: [ExpectedPart(contentType: plain, content: .text("fwd")), ExpectedPart(contentType: plain, content: .text("Old body\r\n"))]),
    CorpusCase(name: "attachment with its own headers", message: message(text: "h", attachments: [file("a.txt", "text/plain", Array("x".utf8), headers: [HeaderField(name: "X-Attachment-Id", value: "42")])]),
        topContentType: "multipart/mixed",
        parts: [ExpectedPart(contentType: plain, content: .text("h")), ExpectedPart(contentType: plain, content: .text("x"), filename: "a.txt", disposition: "attachment")]),
    CorpusCase(name: "AMP with an attachment", message: message(text: "t", html: "<p>h</p>", amp: "<html ⚡4email></html>", attachments: [file("a.pdf", "application/pdf", [1])]),
        topContentType: "multipart/mixed",
        parts: [ExpectedPart(contentType: plain, content: .text("t")), ExpectedPart(contentType: "text/x-amp-html", content: .text("<html ⚡4email></html>")),
                ExpectedPart(contentType: htmlType, content: .text("<p>h</p>")), ExpectedPart(contentType: "application/pdf", content: .bytes([1]), filename: "a.pdf", disposition: "attachment")]),
    CorpusCase(name: "cc, bcc and reply-to", message: message(text: "x", html: "y", to: [ana, Mailbox(address: "bob@example.org")], cc: [Mailbox(displayName: "Carol", address: "carol@example.org")],
            bcc: [Mailbox(address: "hidden@example.org")], replyTo: [Mailbox(displayName: "Support", address: "help@example.com")]),
        topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: .text("x")), ExpectedPart(contentType: htmlType, content: .text("y"))],
        headers: ["To": "Ana <ana@example.org>, bob@example.org", "Cc": "Carol <carol@example.org>", "Reply-To": "Support <help@example.com>"]),
    CorpusCase(name: "display name with comma and quotes", message: message(text: "x", html: "y", to: [Mailbox(displayName: #"Doe, Jane "JJ""#, address: "jane@example.org")]),
        topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: .text("x")), ExpectedPart(contentType: htmlType, content: .text("y"))],
        headers: ["To": #""Doe, Jane \"JJ\"" <jane@example.org>"#]),
    CorpusCase(name: "fifty recipients fold", message: message(text: "x", html: "y", to: (1...50).map { Mailbox(displayName: "User \($0)", address: "user\($0)@example.org") }),
        topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: .text("x")), ExpectedPart(contentType: htmlType, content: .text("y"))],
        headers: ["To": (1...50).map { "User \($0) <user\($0)@example.org>" }.joined(separator: ", ")]),
    CorpusCase(name: "List-Unsubscribe headers", message: message(text: "x", html: "y", headers: [
            HeaderField(name: "List-Unsubscribe", value: "<mailto:unsubscribe@example.com?subject=stop>, <https://example.com/unsubscribe/opaque-token-1234567890abcdef>"),
            HeaderField(name: "List-Unsubscribe-Post", value: "List-Unsubscribe=One-Click")]),
        topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: .text("x")), ExpectedPart(contentType: htmlType, content: .text("y"))],
        headers: ["List-Unsubscribe": "<mailto:unsubscribe@example.com?subject=stop>, <https://example.com/unsubscribe/opaque-token-1234567890abcdef>",
                  "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"]),
    CorpusCase(name: "non-ASCII custom header", message: message(text: "x", html: "y", headers: [HeaderField(name: "X-Campaign", value: "Зимняя распродажа ❄️")]),
        topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: .text("x")), ExpectedPart(contentType: htmlType, content: .text("y"))],
        headers: ["X-Campaign": "Зимняя распродажа ❄️"]),
    CorpusCase(name: "subject that looks encoded", message: message(subject: "=?UTF-8?B?aGk=?= is not decoded", text: "x", html: "y"),
        topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: .text("x")), ExpectedPart(contentType: htmlType, content: .text("y"))],
        subject: "=?UTF-8?B?aGk=?= is not decoded"),
    CorpusCase(name: "international domain as Punycode", message: message(text: "x", html: "y", to: [Mailbox(displayName: "Müller", address: "info@bücher.de")]),
        topContentType: "multipart/alternative",
        parts: [ExpectedPart(contentType: plain, content: .text("x")), ExpectedPart(contentType: htmlType, content: .text("y"))],
        headers: ["To": "Müller <info@xn--bcher-kva.de>"]),
    CorpusCase(name: "lone text body", message: message(text: "Just text.\n"), topContentType: "text/plain",
        parts: [ExpectedPart(contentType: plain, content: .text("Just text.\r\n"))]),
    CorpusCase(name: "lone html body", message: message(html: "<p>Just html</p>"), topContentType: "text/html",
        parts: [ExpectedPart(contentType: htmlType, content: .text("<p>Just html</p>\r\n"))]),
    CorpusCase(name: "lone Cyrillic body in base64", message: message(text: "Только текст"), topContentType: "text/plain",
        parts: [ExpectedPart(contentType: plain, content: .text("Только текст"))]),
    CorpusCase(name: "text and attachment only", message: message(text: "see attached\n", attachments: [file("a.txt", "text/plain", Array("a".utf8))]),
        topContentType: "multipart/mixed",
        parts: [ExpectedPart(contentType: plain, content: partText("see attached\n")), ExpectedPart(contentType: plain, content: .text("a"), filename: "a.txt", disposition: "attachment")]),
]

@Suite("Message corpus read by Python's email package")
struct MessageCorpusTests {
    static let composer = MessageComposer(
        date: { Date(timeIntervalSince1970: 1_796_412_101) },
        uniqueToken: { MessageComposer.randomToken() },
        messageIDDomain: "mail.example.com")

    @Test("corpus has at least 40 messages")
    func corpusSize() {
        #expect(corpus.count >= 40)
    }

    @Test("every corpus message reads back as composed")
    func corpusReadsBack() async throws {
        let composed = corpus.map { Self.composer.compose($0.message) }
        let records = try await PythonEmailParser.parseAll(composed.map(\.bytes))

        for (index, corpusCase) in corpus.enumerated() {
            try check(corpusCase, record: records[index], composed: composed[index])
        }
    }

    private func check(_ corpusCase: CorpusCase, record: JSONValue, composed: ComposedMessage) throws {
        let name = corpusCase.name
        let parsed = record[path: "parsed"] ?? .null

        // The only defects allowed are those Python notes for the RFC 2047 `name` parameter of a
        // non-ASCII attachment name, a form kept for old clients (see the composer).
        let defects = (parsed[path: "defects"]?.arrayValue ?? []).compactMap(\.stringValue).filter { defect in
            !(defect.contains("header Content-Type: InvalidHeaderDefect: encoded word inside quoted string")
                || defect.contains("header Content-Type: InvalidHeaderDefect: missing trailing whitespace after encoded-word"))
        }
        #expect(defects == [], "\(name): defects")
        #expect((record[path: "max_line_length"]?.numberValue ?? 9999) <= 998, "\(name): line length")
        #expect(record[path: "bare_line_feeds"] == 0, "\(name): bare line feeds")
        #expect(parsed[path: "bcc"] == .null, "\(name): Bcc header")
        #expect(parsed[path: "content_type"]?.stringValue == corpusCase.topContentType, "\(name): top content type")
        #expect(parsed[path: "message_id"]?.stringValue == composed.messageID, "\(name): Message-ID")
        if let subject = corpusCase.subject {
            #expect(parsed[path: "subject"]?.stringValue == subject, "\(name): subject")
        }
        for (field, value) in corpusCase.headers {
            let fields = parsed[path: "headers"]?.arrayValue ?? []
            let found = fields.first { $0.arrayValue?.first?.stringValue == field }?.arrayValue?.last?.stringValue
            #expect(found == value, "\(name): header \(field)")
        }

        let parts = parsed[path: "parts"]?.arrayValue ?? []
        #expect(parts.count == corpusCase.parts.count, "\(name): number of parts")
        for (part, expected) in zip(parts, corpusCase.parts) {
            #expect(part[path: "content_type"]?.stringValue == expected.contentType, "\(name): content type")
            #expect(part[path: "filename"]?.stringValue == expected.filename, "\(name): filename")
            #expect(part[path: "content_id"]?.stringValue == expected.contentID, "\(name): Content-ID")
            if let disposition = expected.disposition {
                #expect(part[path: "content_disposition"]?.stringValue == disposition, "\(name): disposition")
            }
            switch expected.content {
            case .text(let text):
                #expect(part[path: "content"]?.stringValue == text, "\(name): text content of \(expected.contentType)")
            case .bytes(let bytes):
                let decoded = part[path: "content"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map(Array.init)
                #expect(decoded == bytes, "\(name): bytes of \(expected.contentType)")
            }
        }
    }
}
