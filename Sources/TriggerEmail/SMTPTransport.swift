import MIME
import SMTP

/// Sends messages to the configured SMTP server.
public struct SMTPTransport: MailTransport {
    private let client: SMTPClient
    private let metrics: DeliveryMetrics?

    /// `metrics`, when given, gets the time and reply class of every transaction.
    public init(client: SMTPClient, metrics: DeliveryMetrics? = nil) {
        self.client = client
        self.metrics = metrics
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
        let started = ContinuousClock.now
        let report: SMTPDeliveryReport
        do {
            report = try await client.send(envelope)
        } catch {
            let replyCode = (error as? SMTPError)?.reply?.code ?? (error as? NoRecipientAcceptedError)?.rejections.last?.reply.code
            metrics?.recordSMTPTransaction(seconds: Self.seconds(since: started), replyCode: replyCode)
            throw error
        }
        metrics?.recordSMTPTransaction(seconds: Self.seconds(since: started), replyCode: Int(report.response.prefix(3)))
        return TransportReport(accepted: report.accepted, rejected: report.rejected, pending: report.pending, response: report.response)
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
