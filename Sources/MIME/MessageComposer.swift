import Foundation

/// The message as it goes on the wire, with what the transport needs to send it.
public struct ComposedMessage: Sendable {
    /// The `Message-ID` header's value, angle brackets included: `<...@example.org>`.
    public var messageID: String
    /// The envelope sender (`MAIL FROM`).
    public var envelopeSender: String
    /// The envelope recipients (`RCPT TO`): To, Cc and Bcc.
    public var envelopeRecipients: [String]
    /// The whole message, headers and body, with CRLF line ends and no line over 998 octets.
    public var bytes: [UInt8]
}

/// Turns a `MailMessage` into RFC 5322 / MIME bytes.
///
/// The parts that vary from run to run (the date, the Message-ID, the boundaries) come from
/// closures, so tests can fix them and compare exact output.
public struct MessageComposer: Sendable {
    public var date: @Sendable () -> Date
    /// Makes the part of a Message-ID before the `@`.
    public var uniqueToken: @Sendable () -> String
    /// The domain after the `@` of a Message-ID; `nil` uses the sender's domain.
    public var messageIDDomain: String?

    public init(
        date: @escaping @Sendable () -> Date = { Date() },
        uniqueToken: @escaping @Sendable () -> String = MessageComposer.randomToken,
        messageIDDomain: String? = nil
    ) {
        self.date = date
        self.uniqueToken = uniqueToken
        self.messageIDDomain = messageIDDomain
    }

    public func compose(_ message: MailMessage) -> ComposedMessage {
        let messageID = "<\(uniqueToken())@\(messageIDDomain ?? String(message.from.domain))>"

        var head = ""
        head += "Date: \(RFC5322Date.format(date()))\r\n"
        head += addressField("From", [message.from])
        if !message.replyTo.isEmpty { head += addressField("Reply-To", message.replyTo) }
        if !message.to.isEmpty { head += addressField("To", message.to) }
        if !message.cc.isEmpty { head += addressField("Cc", message.cc) }
        head += HeaderFolding.unstructuredField("Subject", message.subject)
        head += "Message-ID: \(messageID)\r\n"
        head += "MIME-Version: 1.0\r\n"
        for field in message.extraHeaders {
            head += HeaderFolding.unstructuredField(field.name, field.value)
        }

        var bytes = Array(head.utf8)
        appendBody(of: message, to: &bytes)

        return ComposedMessage(
            messageID: messageID,
            envelopeSender: message.from.address,
            envelopeRecipients: message.envelopeRecipients,
            bytes: bytes)
    }

    // MARK: - Body

    private func appendBody(of message: MailMessage, to bytes: inout [UInt8]) {
        var parts: [(contentType: String, body: EncodedBody)] = []
        if let text = message.text {
            parts.append(("text/plain; charset=utf-8", EncodedBody.encodeText(text)))
        }
        if let html = message.html {
            parts.append(("text/html; charset=utf-8", EncodedBody.encodeText(html)))
        }
        if parts.isEmpty {
            parts.append(("text/plain; charset=utf-8", EncodedBody.encodeText("")))
        }

        guard parts.count > 1 else {
            let part = parts[0]
            bytes += Array("Content-Type: \(part.contentType)\r\nContent-Transfer-Encoding: \(part.body.transferEncoding)\r\n\r\n".utf8)
            bytes += part.body.bytes
            if bytes.suffix(2) != [0x0D, 0x0A] { bytes += [0x0D, 0x0A] }
            return
        }

        let boundary = makeBoundary(avoiding: parts.map(\.body.bytes))
        bytes += Array("Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"\r\n\r\n".utf8)
        for part in parts {
            bytes += Array("--\(boundary)\r\n".utf8)
            bytes += Array("Content-Type: \(part.contentType)\r\nContent-Transfer-Encoding: \(part.body.transferEncoding)\r\n\r\n".utf8)
            bytes += part.body.bytes
            bytes += [0x0D, 0x0A]
        }
        bytes += Array("--\(boundary)--\r\n".utf8)
    }

    /// Makes a boundary that no part's encoded content contains (RFC 2046 section 5.1.1).
    /// Encoded bodies cannot contain `=_` except in 7bit text, so a clash is rare; when one
    /// happens another token is drawn.
    private func makeBoundary(avoiding contents: [[UInt8]]) -> String {
        while true {
            let boundary = "=_\(uniqueToken())"
            let pattern = Array(boundary.utf8)
            let clashes = contents.contains { $0.firstRange(of: pattern) != nil }
            if !clashes { return boundary }
        }
    }

    // MARK: - Addresses

    private func addressField(_ name: String, _ mailboxes: [Mailbox]) -> String {
        var tokens: [String] = []
        for (index, mailbox) in mailboxes.enumerated() {
            var mailboxTokens = displayNameTokens(mailbox.displayName, fieldName: name, isFirst: index == 0)
            mailboxTokens.append("<\(mailbox.address)>")
            if mailboxTokens.count == 1 { mailboxTokens[0] = mailbox.address }
            if index < mailboxes.count - 1 { mailboxTokens[mailboxTokens.count - 1] += "," }
            tokens += mailboxTokens
        }
        return HeaderFolding.field(name, tokens: tokens)
    }

    /// A display name as RFC 5322 `phrase` tokens: atoms as they are, a quoted string when it
    /// has specials, encoded-words when it is not ASCII.
    private func displayNameTokens(_ displayName: String?, fieldName: String, isFirst: Bool) -> [String] {
        guard let displayName, !displayName.isEmpty else { return [] }

        if EncodedWord.isPlainEnough(displayName) {
            let specials = Set("()<>[]:;@\\,.\"")
            if !displayName.contains(where: { specials.contains($0) }) {
                return displayName.split(separator: " ").map(String.init)
            }
            let escaped = displayName.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            // Folding may break a quoted-string at its spaces (RFC 5322 section 3.2.4), so a long
            // name still fits in 78-character lines. Empty tokens keep runs of spaces.
            return "\"\(escaped)\"".split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        }

        let firstLineSpace = isFirst ? HeaderFolding.maxLineLength - fieldName.utf8.count - 2 : HeaderFolding.maxLineLength - 1
        return EncodedWord.encode(displayName, firstLineSpace: firstLineSpace)
    }

    // MARK: - Tokens

    /// 24 random letters and digits: about 143 bits, so Message-IDs do not repeat.
    public static func randomToken() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<24).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] }
        return String(decoding: bytes, as: UTF8.self)
    }
}
