import DocumentStore
import Foundation
import MIME
import TestSupport
import Testing

/// A composed message together with what Python's `email` package read from it.
struct PythonParsedMessage {
    var composed: ComposedMessage
    /// The record of `parse_message.py`: `max_line_length`, `bare_line_feeds` and `parsed`.
    var record: JSONValue

    var parsed: JSONValue { record[path: "parsed"] ?? .null }
    var subject: String? { parsed[path: "subject"]?.stringValue }
    var from: String? { parsed[path: "from"]?.stringValue }
    var to: String? { parsed[path: "to"]?.stringValue }
    var cc: String? { parsed[path: "cc"]?.stringValue }
    var parts: [JSONValue] { parsed[path: "parts"]?.arrayValue ?? [] }

    /// The decoded text of each leaf part, in order.
    var partContents: [String?] { parts.map { $0[path: "content"]?.stringValue } }

    /// The value Python decoded for the first header field called `name`.
    func header(_ name: String) -> String? {
        let fields = parsed[path: "headers"]?.arrayValue ?? []
        let field = fields.first { $0.arrayValue?.first?.stringValue?.lowercased() == name.lowercased() }
        return field?.arrayValue?.last?.stringValue
    }

    /// The lines of the top-level header section as written, folds included.
    var headerLines: [String] {
        let text = String(decoding: composed.bytes, as: UTF8.self)
        let headerSection = text.components(separatedBy: "\r\n\r\n").first ?? ""
        return headerSection.components(separatedBy: "\r\n")
    }

    /// Every RFC 2047 encoded-word in the top-level header section.
    var encodedWords: [String] {
        headerLines.flatMap { line in
            line.split(separator: " ").map(String.init).filter { $0.hasPrefix("=?") && $0.contains("?=") }
        }
    }
}

/// Composes `message`, has Python parse it, and checks what every message must satisfy: no
/// parser defects, lines of at most 998 octets, no bare CR or LF, encoded-words of at most 75
/// characters, and Bcc recipients only in the envelope.
///
/// With `headerLinesFit`, every header line must also be at most 78 characters, which holds
/// when no single token is longer than that.
func composeAndParse(
    _ message: MailMessage, composer: MessageComposer = fixedComposer, headerLinesFit: Bool = true,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws -> PythonParsedMessage {
    let composed = composer.compose(message)
    let record = try await PythonEmailParser.parse(composed.bytes)
    let result = PythonParsedMessage(composed: composed, record: record)

    #expect(result.parsed[path: "defects"] == [], sourceLocation: sourceLocation)
    #expect((record[path: "max_line_length"]?.numberValue ?? .infinity) <= 998, sourceLocation: sourceLocation)
    #expect(record[path: "bare_line_feeds"] == 0, sourceLocation: sourceLocation)
    #expect(result.header("Bcc") == nil, sourceLocation: sourceLocation)
    #expect(result.parsed[path: "bcc"] == .null, sourceLocation: sourceLocation)

    let visible = Set((message.to + message.cc + message.replyTo + [message.from]).map { $0.address.lowercased() })
    for bcc in message.bcc where !visible.contains(bcc.address.lowercased()) {
        #expect(composed.bytes.firstRange(of: Array(bcc.address.utf8)) == nil, sourceLocation: sourceLocation)
        #expect(composed.envelopeRecipients.contains(bcc.address), sourceLocation: sourceLocation)
    }

    let longEncodedWords = result.encodedWords.filter { $0.count > 75 }
    #expect(longEncodedWords == [], sourceLocation: sourceLocation)
    if headerLinesFit {
        let longHeaderLines = result.headerLines.filter { $0.utf8.count > 78 }
        #expect(longHeaderLines == [], sourceLocation: sourceLocation)
    }
    return result
}

/// The text as a MIME text part carries it: every line break as CRLF.
func crlfText(_ text: String) -> String {
    text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        .replacingOccurrences(of: "\n", with: "\r\n")
}
