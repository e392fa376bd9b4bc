import MIME
import SMTP

/// The destination of composed messages: an SMTP server, or the outbox folder when none is
/// configured.
public protocol MailTransport: Sendable {
    /// Hands the message over and reports what became of each recipient. Throws when no
    /// recipient got it, and the error's description becomes `delivery.error`.
    func deliver(_ message: ComposedMessage, documentID: String) async throws -> TransportReport

    /// Hands the message over like `deliver(_:documentID:)`, and calls `completion` with the
    /// outcome on any thread. A transport that works on threads of its own calls it from there,
    /// which spares a task wake-up per message under load.
    func deliver(_ message: ComposedMessage, documentID: String, completion: @escaping @Sendable (Result<TransportReport, any Error>) -> Void)

    /// Ends the wait of every message not yet handed to the server: its completion gets
    /// `MessageNotSentError`. Called when the processor stops.
    func cancelQueuedMessages()

    /// A line for the start-up log: where messages go.
    var summary: String { get }
}

extension MailTransport {
    /// Does nothing, because a transport that hands each message over at once has no queue.
    public func cancelQueuedMessages() {}

    public func deliver(_ message: ComposedMessage, documentID: String, completion: @escaping @Sendable (Result<TransportReport, any Error>) -> Void) {
        Task {
            do {
                completion(.success(try await deliver(message, documentID: documentID)))
            } catch {
                completion(.failure(error))
            }
        }
    }
}

/// What a transport did with one message.
public struct TransportReport: Sendable, Equatable {
    public var accepted: [String]
    public var rejected: [String]
    public var pending: [String]
    public var response: String

    public init(accepted: [String], rejected: [String] = [], pending: [String] = [], response: String) {
        self.accepted = accepted
        self.rejected = rejected
        self.pending = pending
        self.response = response
    }
}
