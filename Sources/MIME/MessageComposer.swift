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
    /// Whether the body has octets above 127 (an 8-bit `message/rfc822` attachment or a raw
    /// part), which the server must accept with `BODY=8BITMIME` (RFC 6152).
    public var containsEightBitBody: Bool
    /// Whether an address has a non-ASCII local part, so the header fields carry UTF-8 and the
    /// server must offer SMTPUTF8 (RFC 6531).
    public var requiresSMTPUTF8: Bool
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
        let senderDomain = Punycode.asciiDomain(String(message.from.domain))
        let messageID = "<\(uniqueToken())@\(messageIDDomain ?? senderDomain)>"
        // Without SMTPUTF8 every address must be ASCII, so international domains go as xn--
        // labels. A message that needs SMTPUTF8 anyway keeps them as written.
        let requiresSMTPUTF8 = message.requiresSMTPUTF8
        let addressForm = { (mailbox: Mailbox) -> String in
            requiresSMTPUTF8 ? mailbox.address : mailbox.asciiDomainAddress
        }

        var head = ""
        head += "Date: \(RFC5322Date.format(date()))\r\n"
        head += addressField("From", [message.from], form: addressForm)
        if !message.replyTo.isEmpty { head += addressField("Reply-To", message.replyTo, form: addressForm) }
        if !message.to.isEmpty { head += addressField("To", message.to, form: addressForm) }
        if !message.cc.isEmpty { head += addressField("Cc", message.cc, form: addressForm) }
        head += HeaderFolding.unstructuredField("Subject", message.subject, foldsLongWords: true)
        head += "Message-ID: \(messageID)\r\n"
        head += "MIME-Version: 1.0\r\n"
        for field in message.extraHeaders {
            head += HeaderFolding.unstructuredField(field.name, field.value)
        }

        let body = render(bodyTree(of: message))
        var bytes = Array(head.utf8)
        bytes += body.header
        bytes += [0x0D, 0x0A]
        bytes += body.body
        if !bytes.endsWithLineBreak { bytes += [0x0D, 0x0A] }

        return ComposedMessage(
            messageID: messageID,
            envelopeSender: addressForm(message.from),
            envelopeRecipients: message.envelopeRecipients(form: addressForm),
            bytes: bytes,
            containsEightBitBody: body.body.contains { $0 >= 0x80 },
            requiresSMTPUTF8: requiresSMTPUTF8)
    }

    // MARK: - Addresses

    private func addressField(_ name: String, _ mailboxes: [Mailbox], form: (Mailbox) -> String) -> String {
        var tokens: [String] = []
        for (index, mailbox) in mailboxes.enumerated() {
            var mailboxTokens = displayNameTokens(mailbox.displayName, fieldName: name, isFirst: index == 0)
            mailboxTokens.append("<\(form(mailbox))>")
            if mailboxTokens.count == 1 { mailboxTokens[0] = form(mailbox) }
            if index < mailboxes.count - 1 { mailboxTokens[mailboxTokens.count - 1] += "," }
            tokens += mailboxTokens
        }
        return HeaderFolding.field(name, tokens: tokens)
    }

    /// The characters that a display name can carry only inside a quoted-string (RFC 5322
    /// section 3.2.3).
    private static let specials = Set("()<>[]:;@\\,.\"".utf8)

    /// Splits a display name into RFC 5322 `phrase` tokens: atoms as they are, a quoted string when it
    /// has specials, encoded-words when it is not ASCII.
    private func displayNameTokens(_ displayName: String?, fieldName: String, isFirst: Bool) -> [String] {
        guard let displayName, !displayName.isEmpty else { return [] }

        if EncodedWord.isPlainEnough(displayName) {
            if !displayName.utf8.contains(where: { Self.specials.contains($0) }) {
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
        RandomTokenSource.shared.token(length: 24)
    }
}
