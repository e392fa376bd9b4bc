import Foundation

/// A message waiting for a connection, and what to call once the server has replied to it.
struct QueuedMessage: Sendable {
    var envelope: SMTPEnvelope
    /// The XOAUTH2 bearer token, used when a connection is opened for this message.
    var accessToken: String?
    var completion: @Sendable (Result<SMTPDeliveryReport, any Error>) -> Void
}

/// Messages waiting for one of the client's threads, oldest first. A connection that is
/// sending a message also takes the next one from here, to pipeline its commands after the
/// current message's data.
final class SMTPSendQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [QueuedMessage] = []

    func append(_ message: QueuedMessage) {
        lock.withLock { messages.append(message) }
    }

    func take() -> QueuedMessage? {
        lock.withLock { messages.isEmpty ? nil : messages.removeFirst() }
    }
}
