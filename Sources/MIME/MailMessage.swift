/// The content of an email before it is turned into bytes: the addresses, the subject, the bodies
/// and any extra header fields.
public struct MailMessage: Sendable, Equatable {
    public var from: Mailbox
    public var replyTo: [Mailbox]
    public var to: [Mailbox]
    public var cc: [Mailbox]
    /// Recipients that receive the message but appear in no header field.
    public var bcc: [Mailbox]
    public var subject: String
    public var text: String?
    public var html: String?
    /// The AMP for Email body (`text/x-amp-html`), sent beside the HTML for clients that show it.
    public var amp: String?
    /// Files and inline parts in the order given.
    public var attachments: [Attachment]
    /// Extra header fields in the order given, written after the ones the composer owns.
    public var extraHeaders: [HeaderField]

    public init(
        from: Mailbox, replyTo: [Mailbox] = [], to: [Mailbox] = [], cc: [Mailbox] = [], bcc: [Mailbox] = [],
        subject: String, text: String? = nil, html: String? = nil, amp: String? = nil, attachments: [Attachment] = [],
        extraHeaders: [HeaderField] = []
    ) {
        self.from = from
        self.replyTo = replyTo
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.subject = subject
        self.text = text
        self.html = html
        self.amp = amp
        self.attachments = attachments
        self.extraHeaders = extraHeaders
    }

    /// Every recipient of the envelope (To, Cc and Bcc), each address once, in that order.
    public var envelopeRecipients: [String] {
        envelopeRecipients(form: { $0.address })
    }

    func envelopeRecipients(form: (Mailbox) -> String) -> [String] {
        var seen = Set<String>()
        var recipients: [String] = []
        for mailbox in to + cc + bcc where seen.insert(form(mailbox).lowercased()).inserted {
            recipients.append(form(mailbox))
        }
        return recipients
    }

    /// Whether an address has a non-ASCII local part, so the message can only go to a server
    /// that offers SMTPUTF8 (RFC 6531), with UTF-8 in its header fields (RFC 6532).
    public var requiresSMTPUTF8: Bool {
        ([from] + replyTo + to + cc + bcc).contains(where: \.requiresSMTPUTF8)
    }
}

/// A header field a caller adds to the message, such as `List-Unsubscribe`.
public struct HeaderField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
