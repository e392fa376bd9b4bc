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
    private let queue = SMTPSendQueue()
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

    /// Delivers one message like `send(_:)`, and calls `completion` with the outcome on the
    /// client's thread instead of resuming a task. Under load that saves a task wake-up per
    /// message. With XOAUTH2 the token provider is asynchronous, so the message takes
    /// `send(_:)`'s path and `completion` runs on a task.
    public func send(_ envelope: SMTPEnvelope, completion: @escaping @Sendable (Result<SMTPDeliveryReport, any Error>) -> Void) {
        if case .oauth2? = configuration.authentication {
            Task {
                do {
                    completion(.success(try await send(envelope)))
                } catch {
                    completion(.failure(error))
                }
            }
            return
        }
        enqueue(QueuedMessage(envelope: envelope, accessToken: nil, completion: completion))
    }

    private func send(_ envelope: SMTPEnvelope, accessToken: String?) async throws -> SMTPDeliveryReport {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(QueuedMessage(envelope: envelope, accessToken: accessToken) { continuation.resume(with: $0) })
        }
    }

    /// Reports every message that is still waiting for a connection as `MessageNotSentError`,
    /// so that stopping waits only for the messages already on a connection.
    public func cancelQueuedMessages() {
        while let message = queue.take() {
            message.completion(.failure(MessageNotSentError()))
        }
    }

    private func enqueue(_ message: QueuedMessage) {
        queue.append(message)
        let submitted = threads.submit { [self] in sendQueued() }
        if !submitted {
            while let stranded = queue.take() {
                stranded.completion(.failure(BlockingThreadPoolShutDownError()))
            }
        }
    }

    /// A message whose commands went out on `session` with the previous message's data.
    private struct Continuation {
        var session: SMTPSession
        var commands: SMTPSession.PipelinedTransaction
    }

    /// Sends the oldest queued message, then each message that its connection took on while
    /// sending the previous one. Every queued message has a job like this one, so a job finds
    /// the queue empty when connections have taken its message already. Runs on one of the
    /// client's threads, because it blocks.
    private func sendQueued() {
        guard var message = queue.take() else { return }
        var continuation: Continuation?
        while true {
            let (report, next) = send(message, continuing: continuation)
            message.completion(report)
            guard let next else { return }
            (message, continuation) = next
        }
    }

    /// Sends one message: on `continuing`'s session when its commands are already out, else on
    /// a pooled session, or on a new one when none is idle or the pooled one turns out to be
    /// closed. Returns the outcome and, when one was taken from the queue to pipeline after
    /// this message's data, the next message, with this session if its commands went out on it.
    private func send(_ message: QueuedMessage, continuing: Continuation?) -> (Result<SMTPDeliveryReport, any Error>, (QueuedMessage, Continuation?)?) {
        pool.recordInUse(1)
        defer { pool.recordInUse(-1) }

        var nextMessage: QueuedMessage?
        if let continuing {
            let outcome = transact(message, on: continuing.session, commandsSent: continuing.commands, nextMessage: &nextMessage)
            if case .failure(let error as SMTPError) = outcome.report, Self.isStaleConnection(error, on: continuing.session) {
                logger.debug("connection closed before the pipelined message's replies; opening a new one", ["smtp.server": configuration.serverDescription])
                continuing.session.close()
            } else {
                return finish(outcome, on: continuing.session, nextMessage: nextMessage)
            }
        } else {
            let (reused, expired) = pool.checkOut()
            Self.close(expired)
            if let session = reused {
                let outcome = transact(message, on: session, commandsSent: nil, nextMessage: &nextMessage)
                if case .failure(let error as SMTPError) = outcome.report, Self.isStaleConnection(error, on: session) {
                    logger.debug("pooled connection was closed by the server; opening a new one", ["smtp.server": configuration.serverDescription])
                    session.close()
                } else {
                    return finish(outcome, on: session, nextMessage: nextMessage)
                }
            }
        }

        let session = SMTPSession(configuration: configuration, tlsContext: tlsContext, logger: logger)
        pool.recordOpened()
        do {
            try session.open(accessToken: message.accessToken)
        } catch {
            session.close()
            return (.failure(error), nil)
        }
        let outcome = transact(message, on: session, commandsSent: nil, nextMessage: &nextMessage)
        return finish(outcome, on: session, nextMessage: nextMessage)
    }

    /// Sends `message` on `session`, taking the next queued message for pipelining when the
    /// connection may carry one more.
    private func transact(
        _ message: QueuedMessage, on session: SMTPSession, commandsSent: SMTPSession.PipelinedTransaction?,
        nextMessage: inout QueuedMessage?
    ) -> SMTPSession.TransactionOutcome {
        let queue = queue
        let maxMessages = maxMessagesPerConnection
        return session.send(message.envelope, commandsSent: commandsSent) {
            // This message counts once it is sent, so the next one needs room for two.
            guard session.messagesSent + 2 <= maxMessages, let next = queue.take() else { return nil }
            nextMessage = next
            return next.envelope
        }
    }

    /// Keeps `session` for the next message when its commands went out on it, and otherwise
    /// returns the session to the pool, or closes it when it is broken or has carried its
    /// share of messages.
    private func finish(
        _ outcome: SMTPSession.TransactionOutcome, on session: SMTPSession, nextMessage: QueuedMessage?
    ) -> (Result<SMTPDeliveryReport, any Error>, (QueuedMessage, Continuation?)?) {
        // The session marks itself broken on a 421 reply or a failed read or write.
        if let nextMessage, let commands = outcome.pipelined, !session.isBroken {
            return (outcome.report, (nextMessage, Continuation(session: session, commands: commands)))
        }

        // A broken connection's pipelined commands never got their message data, so the next
        // message starts again on another connection.
        if session.isBroken || session.messagesSent >= maxMessagesPerConnection {
            session.close()
        } else {
            pool.checkIn(session)
        }
        return (outcome.report, nextMessage.map { ($0, nil) })
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

    /// Returns whether a reused connection failed before any of the message data was sent,
    /// because the server had closed it or is closing it (421): sending again on a new
    /// connection is safe. A check of the message itself, such as SIZE, leaves the session
    /// unbroken and is no reason to replace the connection.
    private static func isStaleConnection(_ error: SMTPError, on session: SMTPSession) -> Bool {
        guard session.isBroken, !error.mayHaveBeenDelivered, [.mailFrom, .recipients, .data].contains(error.step) else { return false }
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
