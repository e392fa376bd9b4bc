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
        let started = ContinuousClock.now
        let outcome: Result<SMTPDeliveryReport, any Error>
        do {
            outcome = .success(try await client.send(Self.envelope(of: message)))
        } catch {
            outcome = .failure(error)
        }
        return try report(outcome, startedAt: started).get()
    }

    public func deliver(_ message: ComposedMessage, documentID: String, completion: @escaping @Sendable (Result<TransportReport, any Error>) -> Void) {
        let started = ContinuousClock.now
        client.send(Self.envelope(of: message)) { outcome in
            completion(report(outcome, startedAt: started))
        }
    }

    public func cancelQueuedMessages() {
        client.cancelQueuedMessages()
    }

    private static func envelope(of message: ComposedMessage) -> SMTPEnvelope {
        SMTPEnvelope(
            sender: message.envelopeSender, recipients: message.envelopeRecipients, message: message.bytes,
            requiresSMTPUTF8: message.requiresSMTPUTF8, containsEightBitBody: message.containsEightBitBody)
    }

    /// Records the transaction's time and reply class, and turns the SMTP report into the
    /// transport's. A message that was never sent had no transaction, so it is not measured.
    private func report(_ outcome: Result<SMTPDeliveryReport, any Error>, startedAt started: ContinuousClock.Instant) -> Result<TransportReport, any Error> {
        switch outcome {
        case .failure(let error) where error is MessageNotSentError:
            return .failure(error)
        case .success(let report):
            metrics?.recordSMTPTransaction(seconds: Self.seconds(since: started), replyCode: Int(report.response.prefix(3)))
            return .success(TransportReport(accepted: report.accepted, rejected: report.rejected, pending: report.pending, response: report.response))
        case .failure(let error):
            let replyCode = (error as? SMTPError)?.reply?.code ?? (error as? NoRecipientAcceptedError)?.rejections.last?.reply.code
            metrics?.recordSMTPTransaction(seconds: Self.seconds(since: started), replyCode: replyCode)
            return .failure(error)
        }
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
