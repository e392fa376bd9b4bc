import DocumentStore
import Foundation
import Logging
import MIME
import SMTP

/// The delivery loop. It claims ready documents from the mail collection, sends each one and
/// records the outcome. Beside it, a sweep ends attempts whose lease has expired.
///
/// Any number of processors, in one process or many, may share a store: claims and outcome
/// writes go through the store's transactions, so each attempt belongs to exactly one of them.
public final class MailProcessor: Sendable {
    public struct Settings: Sendable {
        public var mailCollection: String
        public var usersCollection: String?
        public var templatesCollection: String?
        public var defaultFrom: String?
        public var defaultReplyTo: String?
        public var lease: Duration
        public var ttl: TTLPolicy
        /// The maximum number of documents claimed and not yet sent. A sent document's outcome
        /// may still wait to be written, so slightly more can be `PROCESSING` when the store falls
        /// behind. From a configuration it is `MAX_CLAIMED_DOCUMENTS`, by default 32 per SMTP
        /// connection: every claim and every outcome batch is a transaction with a fixed cost,
        /// and a wider window lets each carry more documents. A worker that dies leaves this many
        /// attempts to end as lease errors.
        public var maxInFlight: Int
        /// How often expired leases are looked for.
        public var sweepInterval: Duration
        /// How long the loop sleeps when no change wakes it, as a safety net.
        public var idlePollInterval: Duration
        /// Signs every message with DKIM when set.
        public var dkimSigner: DKIMSigner?
        /// Limits and permissions for loading `message.attachments`.
        public var attachments: AttachmentSettings
        /// Counts attempts and outcomes for `/metrics` when set.
        public var metrics: DeliveryMetrics?

        public init(
            mailCollection: String = "mail", usersCollection: String? = nil, templatesCollection: String? = nil,
            defaultFrom: String? = nil,
            defaultReplyTo: String? = nil, lease: Duration = .seconds(60), ttl: TTLPolicy = TTLPolicy(),
            maxInFlight: Int = 4, sweepInterval: Duration = .seconds(1), idlePollInterval: Duration = .seconds(1),
            dkimSigner: DKIMSigner? = nil, attachments: AttachmentSettings = AttachmentSettings()
        ) {
            self.mailCollection = mailCollection
            self.usersCollection = usersCollection
            self.templatesCollection = templatesCollection
            self.defaultFrom = defaultFrom
            self.defaultReplyTo = defaultReplyTo
            self.lease = lease
            self.ttl = ttl
            self.maxInFlight = maxInFlight
            self.sweepInterval = sweepInterval
            self.idlePollInterval = idlePollInterval
            self.dkimSigner = dkimSigner
            self.attachments = attachments
        }

        public init(_ configuration: Configuration) {
            self.init(
                mailCollection: configuration.mailCollection, usersCollection: configuration.usersCollection,
                templatesCollection: configuration.templatesCollection,
                defaultFrom: configuration.defaultFrom, defaultReplyTo: configuration.defaultReplyTo,
                lease: configuration.lease, ttl: configuration.ttl,
                maxInFlight: configuration.maxClaimedDocuments ?? configuration.smtpPoolSize * 32,
                attachments: configuration.attachments)
        }
    }

    private let store: any DocumentStore
    private let transport: any MailTransport
    private let settings: Settings
    private let composer: MessageComposer
    private let now: @Sendable () -> Timestamp
    private let logger: Logger
    private let inFlight = InFlightCounter()
    /// Claimed documents whose outcome write has not ended yet, so `run` can wait for them.
    private let unfinished = UnfinishedCounter()
    private let attachmentLoader: AttachmentLoader
    private let templates: MailTemplates
    private let outcomes: OutcomeWriter
    private let leases: LeaseRenewer

    public init(
        store: any DocumentStore, transport: any MailTransport, settings: Settings,
        composer: MessageComposer = MessageComposer(), now: @escaping @Sendable () -> Timestamp = Timestamp.now,
        logger: Logger
    ) {
        self.store = store
        self.transport = transport
        self.settings = settings
        self.composer = composer
        self.now = now
        self.logger = logger
        self.attachmentLoader = AttachmentLoader(settings: settings.attachments)
        self.templates = MailTemplates(store: store, collection: settings.templatesCollection)
        self.outcomes = OutcomeWriter(store: store, collection: settings.mailCollection, logger: logger)
        self.leases = LeaseRenewer(
            store: store, collection: settings.mailCollection, lease: settings.lease, now: now, logger: logger)
    }

    /// Runs until the task is cancelled. Then the messages already on an SMTP connection finish,
    /// and the claims of those still waiting for one go back to `PENDING`.
    public func run() async {
        logger.info("processor started", ["mail.collection": settings.mailCollection, "transport": transport.summary])

        // Not a child task, so that it outlives cancellation and keeps the leases of the
        // deliveries that finish after it.
        let renewal = Task { await self.leases.run() }

        await withDiscardingTaskGroup { group in
            group.addTask { await self.sweepExpiredLeases() }

            while !Task.isCancelled {
                let seen = store.changeCount
                let claimed = await claimReadyDocuments()
                for document in claimed {
                    group.addTask { await self.deliver(document) }
                }
                if !claimed.isEmpty { continue }
                await store.waitForChange(after: seen, timeout: settings.idlePollInterval)
            }
        }
        // The tasks above end once their message is handed to the transport. Messages still
        // waiting for a connection go back to PENDING instead of holding up the stop, and the
        // outcomes of the others are written later, so this waits for them.
        transport.cancelQueuedMessages()
        await unfinished.waitUntilZero()

        renewal.cancel()
        logger.info("processor stopped", ["mail.collection": settings.mailCollection])
    }

    // MARK: - Claiming

    private func claimReadyDocuments() async -> [Document] {
        let capacity = settings.maxInFlight - inFlight.value
        guard capacity > 0 else { return [] }

        let now = now()
        let lease = settings.lease
        do {
            let claimed = try await store.claim(
                from: settings.mailCollection, readyStates: DeliveryState.ready.map(\.rawValue), limit: capacity
            ) { delivery in
                DeliveryRecord.claim(delivery.map { ["delivery": $0] } ?? [:], at: now, lease: lease)?["delivery"]
            }
            inFlight.add(claimed.count)
            unfinished.add(claimed.count)
            return claimed
        } catch {
            logger.error("claim failed", ["error": "\(error)", "mail.collection": settings.mailCollection])
            try? await Task.sleep(for: .seconds(1))
            return []
        }
    }

    // MARK: - Delivering

    /// Composes one claimed document and hands it to the transport, whose completion records
    /// the outcome. Nothing here throws, because every failure ends the attempt as
    /// `ERROR` with the error's description.
    func deliver(_ document: Document) async {
        let attempt = DeliveryRecord.attempt(of: document.data)
        settings.metrics?.recordAttempt()
        leases.add(document.id, attempt: attempt)

        let composed: ComposedMessage
        do {
            composed = try await compose(document)
        } catch {
            finish(document, attempt: attempt, outcome: .failure(error))
            return
        }
        transport.deliver(composed, documentID: document.id) { [self] result in
            finish(document, attempt: attempt, outcome: result.map { report in
                DeliveryInfo(
                    messageID: composed.messageID, accepted: report.accepted, rejected: report.rejected,
                    pending: report.pending, response: report.response)
            })
        }
    }

    private func compose(_ document: Document) async throws -> ComposedMessage {
        let mail = try MailDocument(fields: document.data)

        let resolver = RecipientResolver(store: store, usersCollection: settings.usersCollection, logger: logger)
        let recipients = try await resolver.resolve(mail, documentID: document.id)

        var content = mail.message ?? MailDocument.Message()
        if let template = mail.template {
            content = try await templates.render(template, over: mail.message)
            try content.checkContent(templateName: template.name)
        }

        let message: MailMessage
        do {
            var attachments: [Attachment] = []
            if let attachmentFields = content.attachments {
                attachments = try await attachmentLoader.load(attachmentFields)
            }
            let builder = MessageBuilder(defaultFrom: settings.defaultFrom, defaultReplyTo: settings.defaultReplyTo)
            message = try builder.build(mail, message: content, recipients: recipients, attachments: attachments)
        } catch {
            // The field names in these errors are the message's, which a template may have
            // filled, so the error names the template too.
            guard let template = mail.template else { throw error }
            throw MailDocumentError("\(error) The message was rendered from the template '\(template.name)' and the document's message.")
        }
        var composed = composer.compose(message)
        if let signer = settings.dkimSigner {
            composed.bytes = try signer.sign(composed.bytes, at: Date())
        }
        return composed
    }

    /// Ends an attempt: frees its slot and queues its outcome, whose write is then logged and
    /// counted. Runs on whatever thread the transport finished on.
    private func finish(_ document: Document, attempt: Int, outcome: Result<DeliveryInfo, any Error>) {
        leases.remove(document.id)
        // Free the slot before the final write: the write wakes the claim loop, which must
        // already see the room.
        inFlight.add(-1)

        let ttl = settings.ttl
        let end = now()
        var metadata: Logger.Metadata = ["mail.id": document.id, "mail.attempt": String(attempt)]
        let change: @Sendable (JSONObject) -> JSONObject?
        switch outcome {
        case .success(let info):
            metadata["mail.message_id"] = info.messageID
            metadata["smtp.response"] = info.response
            metadata["mail.accepted"] = String(info.accepted.count)
            change = { DeliveryRecord.succeed($0, attempt: attempt, info: info, at: end, ttl: ttl) }
        case .failure(let error) where error is MessageNotSentError:
            change = { DeliveryRecord.release($0, attempt: attempt) }
        case .failure(let error):
            let message = String(describing: error)
            metadata["error"] = message
            change = { DeliveryRecord.fail($0, attempt: attempt, message: message, at: end, ttl: ttl) }
        }

        // The outcome functions read and write only `delivery`, so the store updates that
        // field alone. While the store fails, the write is tried again for as long as a lease
        // lasts, so a sent message is not left to end as a lease error. After that the attempt
        // stays `PROCESSING` and the lease sweep ends it, so the document is never left claimed
        // for good.
        let deadline = ContinuousClock.now.advanced(by: settings.lease)
        outcomes.write(id: document.id, until: deadline, change: { current in
            change(["delivery": current ?? .null])?["delivery"]
        }, completion: { [self, metadata] written in
            defer { unfinished.add(-1) }
            report(written, endedAt: end, outcome: outcome, createTime: document.createTime, metadata: metadata)
        })
    }

    /// Logs and counts an attempt once its outcome write has ended.
    private func report(
        _ written: Result<JSONValue?, any Error>, endedAt end: Timestamp, outcome: Result<DeliveryInfo, any Error>,
        createTime: Timestamp, metadata: Logger.Metadata
    ) {
        let delivery: JSONValue?
        switch written {
        case .success(let value):
            delivery = value
        case .failure(let error):
            var failure = metadata
            failure["store.error"] = "\(error)"
            logger.error("recording the outcome failed", failure)
            return
        }
        if case .failure(let error) = outcome, error is MessageNotSentError {
            if delivery?[path: "state"]?.stringValue == DeliveryState.pending.rawValue {
                logger.info("claim released because the message was not sent before stopping", metadata)
            } else {
                logger.notice("claim not released because the document changed meanwhile", metadata)
            }
            return
        }
        guard delivery?[path: "endTime"]?.stringValue == end.description else {
            // The document was deleted, or someone else changed its delivery state, while
            // this attempt ran.
            logger.notice("outcome not recorded because the document changed meanwhile", metadata)
            return
        }

        switch outcome {
        case .success:
            settings.metrics?.recordSuccess(insertToSuccess: Double(end.millisecondsSince1970 - createTime.millisecondsSince1970) / 1000)
            logger.info("delivered", metadata)
        case .failure:
            settings.metrics?.recordOutcome("error")
            logger.warning("delivery failed", metadata)
        }
    }

    // MARK: - Leases

    private func sweepExpiredLeases() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: settings.sweepInterval)
            } catch {
                return
            }
            await expireLeases()
        }
    }

    /// Ends every `PROCESSING` attempt whose lease is over as `ERROR`. Safe to run in several
    /// processes at once: the store re-checks each document under its lock.
    public func expireLeases() async {
        let now = now()
        let ttl = settings.ttl
        do {
            let expired = try await store.expiredLeases(in: settings.mailCollection, at: now, limit: 100)
            for document in expired {
                // Several processes may sweep at once; only the one whose write ended the attempt
                // reports it.
                let ended = EndedFlag()
                _ = try await store.update(document.id, in: settings.mailCollection) { current in
                    let fields = DeliveryRecord.expireLease(current.data, at: now, ttl: ttl)
                    ended.value = fields != nil
                    return fields
                }
                if ended.value {
                    settings.metrics?.recordOutcome("lease_expired")
                    logger.warning("lease expired", ["mail.id": document.id])
                }
            }
        } catch {
            logger.error("lease sweep failed", ["error": "\(error)", "mail.collection": settings.mailCollection])
        }
    }
}

/// The number of documents being delivered, shared by the claim loop and the deliveries.
private final class InFlightCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int {
        lock.withLock { count }
    }

    func add(_ delta: Int) {
        lock.withLock { count += delta }
    }
}

/// A count that a task can wait to fall to zero.
private final class UnfinishedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func add(_ delta: Int) {
        let woken: [CheckedContinuation<Void, Never>] = lock.withLock {
            count += delta
            guard count == 0 else { return [] }
            defer { waiters.removeAll() }
            return waiters
        }
        for waiter in woken {
            waiter.resume()
        }
    }

    func waitUntilZero() async {
        await withCheckedContinuation { continuation in
            let isZero = lock.withLock {
                guard count != 0 else { return true }
                waiters.append(continuation)
                return false
            }
            if isZero { continuation.resume() }
        }
    }
}

/// Whether an update's change ran and wrote, set inside the store's transaction.
private final class EndedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = false

    var value: Bool {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
