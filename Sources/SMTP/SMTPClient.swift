import BlockingThreads
import Logging

/// Sends messages to one SMTP server. Each message gets its own session, run on one of the
/// client's threads, so at most `maxConnections` sessions are open at once.
///
/// Not yet: sessions are not reused between messages, and PIPELINING is not used; each message
/// pays for its own connection, TLS handshake and AUTH.
public final class SMTPClient: Sendable {
    public let configuration: SMTPServerConfiguration
    private let tlsContext: TLSContext
    private let threads: BlockingThreadPool
    private let logger: Logger

    /// Prepares the client; throws when the TLS settings cannot be loaded (a missing CA file).
    public init(configuration: SMTPServerConfiguration, maxConnections: Int, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        do {
            self.tlsContext = try TLSContext(configuration.tls)
        } catch {
            throw SMTPConfigurationError(message: "Invalid TLS settings for \(configuration.serverDescription): \(error).")
        }
        self.threads = BlockingThreadPool(name: "smtp", threadCount: max(1, maxConnections))
    }

    deinit {
        threads.shutDown()
    }

    /// Delivers one message and reports the server's reply for each recipient.
    ///
    /// Throws `SMTPError` when a step fails and `NoRecipientAcceptedError` when the server
    /// rejects every recipient.
    public func send(_ envelope: SMTPEnvelope) async throws -> SMTPDeliveryReport {
        let configuration = configuration
        let tlsContext = tlsContext
        let logger = logger

        return try await threads.run {
            let session = SMTPSession(configuration: configuration, tlsContext: tlsContext, logger: logger)
            defer { session.close() }

            try session.open()
            return try session.send(envelope)
        }
    }
}

/// Raised at start-up for SMTP settings that cannot work.
public struct SMTPConfigurationError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
