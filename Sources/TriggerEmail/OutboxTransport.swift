import BlockingThreads
import Foundation
import MIME

/// Writes each message to `DIRECTORY/ID.eml` instead of sending it, for trying the service out
/// without an SMTP server. `delivery.info.response` states that the message was not sent.
public final class OutboxTransport: MailTransport {
    public let directory: String
    // File writes block, so they run on a thread of their own.
    private let thread = BlockingThreadPool(name: "outbox", threadCount: 1)

    public init(directory: String) {
        self.directory = directory
    }

    deinit {
        thread.shutDown()
    }

    public var summary: String { "the outbox folder \(directory) (no SMTP server configured; messages are not sent)" }

    public func deliver(_ message: ComposedMessage, documentID: String) async throws -> TransportReport {
        let directory = directory
        let bytes = message.bytes
        let path = try await thread.run { () throws -> String in
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let path = (directory as NSString).appendingPathComponent("\(documentID).eml")
            // Written whole to a temporary name and renamed, so no reader sees half a message.
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
            return path
        }
        return TransportReport(
            accepted: message.envelopeRecipients,
            response: "Written to \(path) and not sent, because SMTP_CONNECTION_URI is not set.")
    }
}
