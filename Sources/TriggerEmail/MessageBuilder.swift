import Foundation
import MIME

/// Turns a checked mail document into a `MailMessage`, filling `from` and `replyTo` from the
/// configured defaults and parsing every address.
struct MessageBuilder: Sendable {
    var defaultFrom: String?
    var defaultReplyTo: String?

    /// Builds the message from the document's addresses and headers and `message`, which is
    /// the document's own or the one its template rendered.
    func build(
        _ mail: MailDocument, message: MailDocument.Message, recipients: RecipientResolver.Resolved,
        attachments: [Attachment] = []
    ) throws(MailDocumentError) -> MailMessage {
        guard let fromText = mail.from ?? defaultFrom else {
            throw MailDocumentError("The document has no 'from' and DEFAULT_FROM is not set: set one of them to the sender's address.")
        }
        let from = try parseMailbox(fromText, field: mail.from == nil ? "DEFAULT_FROM" : "from")

        var replyTo: [Mailbox] = []
        if let replyToText = mail.replyTo ?? defaultReplyTo {
            replyTo = try parseList([replyToText], field: mail.replyTo == nil ? "DEFAULT_REPLY_TO" : "replyTo")
        }

        var headers: [HeaderField] = []
        for (name, value) in mail.headers {
            let field = HeaderField(name: name, value: value)
            do {
                try field.validate()
            } catch {
                throw MailDocumentError("Field 'headers.\(name)' is invalid: \(error.reason).")
            }
            headers.append(field)
        }

        for (index, attachment) in attachments.enumerated() {
            do {
                try attachment.validate()
            } catch {
                let name = attachment.filename.map { " (\($0))" } ?? ""
                throw MailDocumentError("message.attachments[\(index)]\(name) is invalid: \(error.reason).")
            }
        }

        let to = try parseList(recipients.to, field: "to")
        let cc = try parseList(recipients.cc, field: "cc")
        let bcc = try parseList(recipients.bcc, field: "bcc")
        guard !(to.isEmpty && cc.isEmpty && bcc.isEmpty) else {
            throw MailDocumentError("The document has no recipient: to, cc and bcc contain no address.")
        }

        return MailMessage(
            from: from,
            replyTo: replyTo,
            to: to,
            cc: cc,
            bcc: bcc,
            subject: try Self.headerText(message.subject ?? "", field: "message.subject"),
            text: message.text,
            html: message.html,
            amp: message.amp,
            attachments: attachments,
            extraHeaders: headers)
    }

    /// Makes text fit for a header field: each line break becomes a space, as a subject written
    /// over several lines (by a template, say) reads on one line, and other control characters
    /// are rejected because no reader can show them.
    static func headerText(_ text: String, field: String) throws(MailDocumentError) -> String {
        var result = String.UnicodeScalarView()
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            defer { previousWasCR = scalar == "\r" }
            if scalar == "\n" && previousWasCR { continue }
            if scalar == "\r" || scalar == "\n" {
                result.append(" ")
                continue
            }
            if scalar.isHeaderControlCharacter {
                let code = String(scalar.value, radix: 16, uppercase: true)
                throw MailDocumentError("Field '\(field)' contains the control character U+\(String(repeating: "0", count: 4 - code.count) + code); remove it.")
            }
            result.append(scalar)
        }
        return String(result)
    }

    private func parseMailbox(_ text: String, field: String) throws(MailDocumentError) -> Mailbox {
        let list = try parseList([text], field: field)
        guard list.count == 1 else {
            throw MailDocumentError("Field '\(field)' must contain exactly one address, but it contains \(list.count).")
        }
        return list[0]
    }

    private func parseList(_ texts: [String], field: String) throws(MailDocumentError) -> [Mailbox] {
        var mailboxes: [Mailbox] = []
        for text in texts {
            if let cached = ParsedAddressCache.shared.mailboxes(for: text) {
                mailboxes += cached
                continue
            }
            do {
                let parsed = try AddressParser.parseList(text)
                ParsedAddressCache.shared.store(parsed, for: text)
                mailboxes += parsed
            } catch {
                throw MailDocumentError("Field '\(field)' holds an invalid email address \"\(error.input)\": \(error.reason).")
            }
        }
        return mailboxes
    }
}

extension MailDocument {
    /// Checks that the addresses, headers and subject compose into a message, as the processor
    /// will, without users lookups, templates or attachments. `trigger-email send` uses it to reject a bad
    /// document before it is written.
    public func checkComposable(defaultFrom: String?, defaultReplyTo: String?) throws(MailDocumentError) {
        // A template's subject and body are known only when it renders, so a document with a
        // template is checked with an empty message.
        let builder = MessageBuilder(defaultFrom: defaultFrom, defaultReplyTo: defaultReplyTo)
        let message = template == nil ? self.message ?? Message() : Message(subject: "", text: "")
        _ = try builder.build(self, message: message, recipients: .init(to: to, cc: cc, bcc: bcc))
    }
}

/// Address lists parsed before, by their text. Most messages repeat a sender such as
/// DEFAULT_FROM, and parsing it again took several percent of a worker's CPU time.
private final class ParsedAddressCache: @unchecked Sendable {
    static let shared = ParsedAddressCache()

    /// The maximum number of entries; a full cache is emptied and fills again.
    private static let capacity = 1024

    private let lock = NSLock()
    private var entries: [String: [Mailbox]] = [:]

    func mailboxes(for text: String) -> [Mailbox]? {
        lock.withLock { entries[text] }
    }

    func store(_ mailboxes: [Mailbox], for text: String) {
        lock.withLock {
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[text] = mailboxes
        }
    }
}
