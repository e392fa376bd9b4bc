import MIME
import SMTP

/// Sends messages to the configured SMTP server.
public struct SMTPTransport: MailTransport {
    private let client: SMTPClient

    public init(client: SMTPClient) {
        self.client = client
    }

    public var summary: String {
        let configuration = client.configuration
        let scheme = configuration.security == .implicitTLS ? "smtps" : "smtp"
        let user = configuration.authentication.map { "\($0.user)@" } ?? ""
        return "\(scheme)://\(user)\(configuration.serverDescription)"
    }

    public func deliver(_ message: ComposedMessage, documentID: String) async throws -> TransportReport {
        let envelope = SMTPEnvelope(
            sender: message.envelopeSender, recipients: message.envelopeRecipients, message: message.bytes,
            requiresSMTPUTF8: message.requiresSMTPUTF8, containsEightBitBody: message.containsEightBitBody)
        let report = try await client.send(envelope)
        return TransportReport(accepted: report.accepted, rejected: report.rejected, pending: report.pending, response: report.response)
    }
}
