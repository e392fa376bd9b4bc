import DocumentStore
import Foundation

/// Writes mail documents the way the processor expects to find them. A document added to the
/// mail collection gets a fresh `delivery` record in state `PENDING`, whatever `delivery` it
/// carried, so a copied document is sent again rather than taken for already sent.
public struct MailQueue: Sendable {
    public let store: any DocumentStore
    public let mailCollection: String
    private let now: @Sendable () -> Timestamp

    public init(store: any DocumentStore, mailCollection: String, now: @escaping @Sendable () -> Timestamp = Timestamp.now) {
        self.store = store
        self.mailCollection = mailCollection
        self.now = now
    }

    /// Adds one document; in the mail collection it starts as `PENDING`.
    public func add(_ fields: JSONObject, to collection: String? = nil, id: String? = nil) async throws -> Document {
        let collection = collection ?? mailCollection
        return try await store.add(prepared(fields, for: collection), to: collection, id: id)
    }

    /// Adds many documents in one transaction.
    public func addBatch(_ batch: [JSONObject], to collection: String? = nil) async throws -> [Document] {
        let collection = collection ?? mailCollection
        return try await store.addBatch(batch.map { prepared($0, for: collection) }, to: collection)
    }

    private func prepared(_ fields: JSONObject, for collection: String) -> JSONObject {
        guard collection == mailCollection else { return fields }
        var prepared = fields
        prepared["delivery"] = DeliveryRecord.initial(at: now())
        return prepared
    }

    /// Asks for another attempt by writing `delivery.state: RETRY`.
    ///
    /// Refused while the document is `PROCESSING`, because the attempt under way could still
    /// deliver the message and a retry would then send it twice.
    public func retry(_ id: String) async throws -> RetryOutcome {
        let box = OutcomeBox()

        _ = try await store.update(id, in: mailCollection) { document in
            let state = document.data["delivery"]?[path: "state"]?.stringValue
            switch state {
            case DeliveryState.success.rawValue, DeliveryState.error.rawValue:
                var fields = document.data
                var delivery = fields["delivery"]?.objectValue ?? [:]
                delivery["state"] = .string(DeliveryState.retry.rawValue)
                fields["delivery"] = .object(delivery)
                box.set(.retrying)
                return fields
            case DeliveryState.processing.rawValue:
                box.set(.processing)
                return nil
            default:
                box.set(.alreadyQueued(state: state ?? "new"))
                return nil
            }
        }
        return box.value ?? .notFound
    }
}

/// The result of `MailQueue.retry`.
public enum RetryOutcome: Sendable, Equatable {
    /// The document is now `RETRY` and will be sent again.
    case retrying
    /// The document is being sent; it was left alone.
    case processing
    /// The document is already waiting to be sent (`PENDING`, `RETRY` or new).
    case alreadyQueued(state: String)
    case notFound
}

private final class OutcomeBox: @unchecked Sendable {
    private var stored: RetryOutcome?
    private let lock = NSLock()

    var value: RetryOutcome? { lock.withLock { stored } }

    func set(_ outcome: RetryOutcome) {
        lock.withLock { stored = outcome }
    }
}
