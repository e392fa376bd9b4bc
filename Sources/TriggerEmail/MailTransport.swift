import MIME

/// The destination of composed messages: an SMTP server, or the outbox folder when none is
/// configured.
public protocol MailTransport: Sendable {
    /// Hands the message over and reports what became of each recipient. Throws when no
    /// recipient got it, and the error's description becomes `delivery.error`.
    func deliver(_ message: ComposedMessage, documentID: String) async throws -> TransportReport

    /// A line for the start-up log: where messages go.
    var summary: String { get }
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
