import BlockingThreads
import Logging

/// Sends messages to one SMTP server over a pool of connections. Each connection carries many
/// messages in turn (up to `maxMessagesPerConnection`), and closes after `idleTimeout` without
/// one. Sessions run on the client's own threads, one per connection, so at most
/// `maxConnections` are open at once.
public final class SMTPClient: Sendable {
    public let configuration: SMTPServerConfiguration
    /// Connections open at once at most (`SMTP_POOL_SIZE`).
    public let maxConnections: Int
    /// Messages sent over one connection before it is closed and a new one opened.
    public let maxMessagesPerConnection: Int
    private let tlsContext: TLSContext
    private let threads: BlockingThreadPool
    private let pool: SMTPSessionPool
    private let reaper: Task<Void, Never>
    private let logger: Logger

    /// Prepares the client; throws when the TLS settings cannot be loaded (a missing CA file).
    public init(
        configuration: SMTPServerConfiguration, maxConnections: Int, maxMessagesPerConnection: Int = 100,
        idleTimeout: Duration = .seconds(30), logger: Logger
    ) throws {
        self.configuration = configuration
        self.maxConnections = max(1, maxConnections)
        self.maxMessagesPerConnection = max(1, maxMessagesPerConnection)
        self.logger = logger
        do {
            self.tlsContext = try TLSContext(configuration.tls)
        } catch {
            throw SMTPConfigurationError(message: "Invalid TLS settings for \(configuration.serverDescription): \(error).")
        }

        let threads = BlockingThreadPool(name: "smtp", threadCount: self.maxConnections)
        let pool = SMTPSessionPool(idleTimeout: idleTimeout)
        self.threads = threads
        self.pool = pool
        // Closes idle connections on time even when no message comes to notice them.
        self.reaper = Task.detached { [weak pool, weak threads] in
            while !Task.isCancelled {
                try? await Task.sleep(for: idleTimeout / 2)
                guard let pool, let threads else { return }
                let expired = pool.takeExpiredSessions()
                if !expired.isEmpty {
                    _ = try? await threads.run { Self.close(expired) }
                }
            }
        }
    }

    deinit {
        reaper.cancel()
        let idle = pool.takeAll()
        let threads = threads
        Task.detached {
            _ = try? await threads.run { Self.close(idle) }
            threads.shutDown()
        }
    }

    /// Connections opened since the client started.
    public var connectionsOpened: Int { pool.connectionsOpened }

    /// Open connections waiting for the next message.
    public var idleConnections: Int { pool.idleCount }

    /// Connections carrying a message at the moment.
    public var connectionsInUse: Int { pool.inUseCount }

    /// Delivers one message and reports the server's reply for each recipient.
    ///
    /// A pooled connection that turns out to be closed by the server is replaced once, as long
    /// as nothing of the message was sent. With XOAUTH2, a rejected access token is replaced
    /// once by a newly fetched one on a new connection. Throws `SMTPError` when a step fails,
    /// `NoRecipientAcceptedError` when the server rejects every recipient, and the token
    /// provider's error when it has no access token.
    public func send(_ envelope: SMTPEnvelope) async throws -> SMTPDeliveryReport {
        // The token is fetched before the session runs, because the session blocks a thread
        // and cannot await the provider. A reused connection does not need it, but the
        // provider's cache makes the call cheap.
        // NOTE: while the token endpoint fails, messages fail too, even when a pooled
        // connection that is already authenticated could carry them.
        do {
            return try await send(envelope, accessToken: try await accessToken(forceRefresh: false))
        } catch let error as SMTPError where error.rejectsAccessToken {
            logger.info("access token rejected; fetching a new one", ["smtp.server": configuration.serverDescription, "smtp.reply": error.reply?.description ?? ""])
            return try await send(envelope, accessToken: try await accessToken(forceRefresh: true))
        }
    }

    /// Returns the XOAUTH2 bearer token from the configured provider, or `nil` without XOAUTH2.
    private func accessToken(forceRefresh: Bool) async throws -> String? {
        guard case .oauth2(_, let tokens)? = configuration.authentication else { return nil }
        return try await tokens.accessToken(forceRefresh: forceRefresh)
    }

    private func send(_ envelope: SMTPEnvelope, accessToken: String?) async throws -> SMTPDeliveryReport {
        let configuration = configuration
        let tlsContext = tlsContext
        let logger = logger
        let pool = pool
        let maxMessages = maxMessagesPerConnection

        return try await threads.run {
            pool.recordInUse(1)
            defer { pool.recordInUse(-1) }
            let (reused, expired) = pool.checkOut()
            Self.close(expired)

            if let session = reused {
                do {
                    return try Self.deliver(envelope, on: session, pool: pool, maxMessages: maxMessages)
                } catch let error as SMTPError where Self.isStaleConnection(error) {
                    logger.debug("pooled connection was closed by the server; opening a new one", ["smtp.server": configuration.serverDescription])
                }
            }

            let session = SMTPSession(configuration: configuration, tlsContext: tlsContext, logger: logger)
            pool.recordOpened()
            do {
                try session.open(accessToken: accessToken)
            } catch {
                session.close()
                throw error
            }
            return try Self.deliver(envelope, on: session, pool: pool, maxMessages: maxMessages)
        }
    }

    /// Connects with the configured settings and reports what the server offers and whether AUTH
    /// succeeds, then sends QUIT. Sends no mail. Throws when a step before AUTH fails.
    public func checkServer() async throws -> SMTPServerCheck {
        let configuration = configuration
        let tlsContext = tlsContext
        let logger = logger

        // Without a token the session still connects and reports the server, and the token
        // provider's error becomes the AUTH result.
        var accessToken: String?
        var tokenError: String?
        do {
            accessToken = try await self.accessToken(forceRefresh: false)
        } catch {
            tokenError = "\(error)"
        }

        return try await threads.run { [accessToken, tokenError] in
            let session = SMTPSession(configuration: configuration, tlsContext: tlsContext, logger: logger)
            defer { session.close() }

            var authenticationError: String?
            do {
                try session.open(accessToken: accessToken)
            } catch let error as SMTPError where error.step == .authentication {
                authenticationError = tokenError ?? error.description
            }
            return SMTPServerCheck(
                greeting: session.greetingText, extensions: session.extensions, tlsVersion: session.socket?.tlsVersion,
                certificate: session.socket?.peerCertificate,
                authenticated: configuration.authentication == nil ? nil : authenticationError == nil,
                authenticationError: authenticationError)
        }
    }

    /// Sends on `session`, then returns it to the pool when it can carry more messages, or
    /// closes it.
    private static func deliver(_ envelope: SMTPEnvelope, on session: SMTPSession, pool: SMTPSessionPool, maxMessages: Int) throws -> SMTPDeliveryReport {
        do {
            let report = try session.send(envelope)
            release(session, pool: pool, maxMessages: maxMessages)
            return report
        } catch {
            if let error = error as? SMTPError, error.reply?.code == 421 {
                // 421: the server is closing this connection.
                session.isBroken = true
            }
            release(session, pool: pool, maxMessages: maxMessages)
            throw error
        }
    }

    private static func release(_ session: SMTPSession, pool: SMTPSessionPool, maxMessages: Int) {
        if session.isBroken || session.messagesSent >= maxMessages {
            session.close()
        } else {
            pool.checkIn(session)
        }
    }

    /// Returns whether a reused connection failed before any of the message was sent, because the server
    /// had closed it or is closing it (421): sending again on a new connection is safe.
    private static func isStaleConnection(_ error: SMTPError) -> Bool {
        guard !error.mayHaveBeenDelivered, error.step == .mailFrom || error.step == .recipients else { return false }
        if let reply = error.reply { return reply.code == 421 }
        return true
    }

    private static func close(_ sessions: [SMTPSession]) {
        for session in sessions {
            session.close()
        }
    }
}

/// Carries sessions to a client thread; each is used by one thread at a time.
extension SMTPSession: @unchecked Sendable {}

/// Raised at start-up for SMTP settings that cannot work.
public struct SMTPConfigurationError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
