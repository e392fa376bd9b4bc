/// A failed SMTP delivery: the step that failed, the server's reply when there was one, and
/// what that means for the message.
///
/// Reads as one sentence:
/// `RCPT TO:<a@example.org> rejected by mx.example.org:25: 550 5.1.1 no such user.`
public struct SMTPError: Error, CustomStringConvertible, Sendable {
    /// The phase of the session that failed.
    public enum Step: String, Sendable {
        case connect = "connect"
        case greeting = "greeting"
        case hello = "EHLO"
        case startTLS = "STARTTLS"
        case tlsHandshake = "TLS handshake"
        case authentication = "AUTH"
        case mailFrom = "MAIL FROM"
        case recipients = "RCPT TO"
        case data = "DATA"
        case messageData = "message data"
    }

    public var step: Step
    /// The host and port the client was talking to.
    public var server: String
    /// The command that got the failing reply, in its log form (no secrets).
    public var command: SMTPCommand?
    public var reply: SMTPReply?
    /// A description of the failure, when there is no reply or the reply alone does not explain it.
    public var detail: String?
    /// Whether the server may have accepted the message before the failure, so sending it again
    /// could deliver it twice.
    public var mayHaveBeenDelivered: Bool

    public init(
        step: Step, server: String, command: SMTPCommand? = nil, reply: SMTPReply? = nil, detail: String? = nil,
        mayHaveBeenDelivered: Bool = false
    ) {
        self.step = step
        self.server = server
        self.command = command
        self.reply = reply
        self.detail = detail
        self.mayHaveBeenDelivered = mayHaveBeenDelivered
    }

    /// A 4xx reply, a timeout or a lost connection: the same request may succeed later.
    public var isTemporary: Bool {
        if let reply { return reply.isTransientFailure }
        return step != .tlsHandshake
    }

    /// A 5xx reply or a TLS failure: sending the same message again will fail again.
    public var isPermanent: Bool { !isTemporary }

    public var description: String {
        var sentence: String
        if let command, let reply {
            sentence = "\(command.logLine) rejected by \(server): \(reply)"
        } else if let reply {
            sentence = "\(step.rawValue) failed at \(server): \(reply)"
        } else {
            sentence = "\(step.rawValue) failed at \(server)"
        }
        if let detail {
            sentence += reply == nil ? ": \(detail)" : " (\(detail))"
        }
        if mayHaveBeenDelivered {
            sentence += ". The message may have been delivered, so it was not sent again; check the recipient's mailbox before retrying"
        }
        // A reply that ends in a period, such as "550 5.1.1 Unknown user.", already ends the sentence.
        return sentence.hasSuffix(".") ? sentence : sentence + "."
    }
}

/// Raised when the server rejected every recipient, quoting each reply.
public struct NoRecipientAcceptedError: Error, CustomStringConvertible, Sendable {
    public var server: String
    public var rejections: [(recipient: String, reply: SMTPReply)]

    public var description: String {
        guard !rejections.isEmpty else { return "No recipient was accepted by \(server): the envelope has no recipients." }
        let replies = rejections.map { "RCPT TO <\($0.recipient)>: \($0.reply)" }.joined(separator: "; ")
        return "No recipient was accepted by \(server): \(replies)."
    }

    /// True when every rejection was temporary (4xx), so the message may go through later. False
    /// for an envelope without recipients, which no retry can fix.
    public var isTemporary: Bool { !rejections.isEmpty && rejections.allSatisfy { $0.reply.isTransientFailure } }
}
