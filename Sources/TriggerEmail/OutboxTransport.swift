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

    /// Creates the folder when it is missing, so that a folder that cannot exist or cannot be
    /// written stops the service at start instead of failing every message.
    public func prepare() throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw OutboxError(message: "Cannot create the outbox folder \(directory): \(Self.reason(error)); set OUTBOX_DIR to a folder this user may write to.")
        }
        guard FileManager.default.isWritableFile(atPath: directory) else {
            throw OutboxError(message: "The outbox folder \(directory) is not writable; set OUTBOX_DIR to a folder this user may write to.")
        }
    }

    /// Returns the system's reason without Foundation's domain and code decoration.
    private static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        let prefix = "The operation could not be completed. "
        let description = nsError.localizedDescription
        let sentence = description.hasPrefix(prefix) ? String(description.dropFirst(prefix.count)) : description
        return sentence.hasSuffix(".") ? String(sentence.dropLast()) : sentence
    }

    public var summary: String { "the outbox folder \(directory) (no SMTP server configured; messages are not sent)" }

    public func deliver(_ message: ComposedMessage, documentID: String) async throws -> TransportReport {
        let directory = directory
        let bytes = message.bytes
        let path = try await thread.run { () throws -> String in
            let path = (directory as NSString).appendingPathComponent("\(documentID).eml")
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                // Written whole to a temporary name and renamed, so no reader sees half a message.
                try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw OutboxError(message: "Cannot write the message to \(path): \(Self.reason(error)); check that OUTBOX_DIR is a folder this user may write to.")
            }
            return path
        }
        return TransportReport(
            accepted: message.envelopeRecipients,
            response: "Written to \(path) and not sent, because SMTP_CONNECTION_URI is not set.")
    }
}

/// A message that could not be written to the outbox folder.
public struct OutboxError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
