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

    /// Returns the value Python decoded for the first header field named `name`.
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

/// Converts CR LF, a lone CR and a lone LF to CR LF, the line break of a MIME text part.
///
/// Works on Unicode scalars, because Foundation's `replacingOccurrences` does not match an LF
/// that a combining mark follows.
func crlfText(_ text: String) -> String {
    var output = String.UnicodeScalarView()
    var previousWasCR = false
    for scalar in text.unicodeScalars {
        if scalar == "\n" && previousWasCR {
            previousWasCR = false
            continue
        }
        previousWasCR = scalar == "\r"
        if scalar == "\r" || scalar == "\n" {
            output.append(contentsOf: "\r\n".unicodeScalars)
        } else {
            output.append(scalar)
        }
    }
    return String(output)
}

/// Decodes the mailboxes of one address field with Python's older RFC 2047 decoder,
/// `email.header.decode_header`.
///
/// `email.policy.default` in CPython 3.11 puts a space between adjacent encoded-words inside a
/// display name (CPython issue gh-128110), although RFC 2047 section 6.2 requires a reader to
/// drop that space. A display name too long for one encoded-word is checked with this decoder.
func decodeMailboxes(_ field: String, in bytes: [UInt8]) async throws -> [Mailbox] {
    // The older API returns folded values, so the script unfolds them (RFC 5322 section 2.2.3)
    // before splitting the addresses.
    let script = """
        import email, json, re, sys
        from email.header import decode_header, make_header
        from email.utils import getaddresses
        message = email.message_from_bytes(sys.stdin.buffer.read())
        values = [re.sub(r"\\r\\n(?=[ \\t])", "", value) for value in message.get_all(sys.argv[1], [])]
        pairs = getaddresses(values)
        print(json.dumps([[str(make_header(decode_header(name))), address] for name, address in pairs]))
        """
    let child = try ChildProcess(
        executable: try TestEnvironment.python(), arguments: ["-c", script, field],
        environment: ["PYTHONDONTWRITEBYTECODE": "1"])
    child.write(String(decoding: bytes, as: UTF8.self))
    child.closeInput()

    let status = try await child.waitForExit()
    guard status == 0 else {
        throw TestEnvironmentError("decoding the \(field) field failed with status \(status): \(child.standardError)")
    }
    let pairs = try JSONValue(parsing: child.standardOutput).arrayValue ?? []
    return pairs.map { pair in
        let name = pair.arrayValue?.first?.stringValue ?? ""
        let address = pair.arrayValue?.last?.stringValue ?? ""
        return Mailbox(displayName: name.isEmpty ? nil : name, address: address)
    }
}
