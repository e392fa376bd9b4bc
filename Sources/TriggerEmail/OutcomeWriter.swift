import DocumentStore
import Foundation
import Logging

/// Writes delivery outcomes in batches. While one batch commits, the outcomes that arrive queue
/// up and go into the next transaction, so under load many outcomes share one commit, and an
/// outcome that arrives alone is written at once.
///
/// Callers hand an outcome over and go on, and a completion reports the write. No task waits per
/// outcome, because at thousands of messages a second a task woken per outcome costs more
/// than the write.
final class OutcomeWriter: Sendable {
    private struct Pending {
        var update: FieldUpdate
        /// While the store fails, the write is tried again until this instant.
        var deadline: ContinuousClock.Instant
        var completion: @Sendable (Result<JSONValue?, any Error>) -> Void
    }

    private struct State {
        var pending: [Pending] = []
        var isWriting = false
    }

    /// The maximum number of outcomes in one transaction, so a huge queue does not hold the write
    /// lock for long.
    static let maxBatchSize = 256

    private let store: any DocumentStore
    private let collection: String
    private let logger: Logger
    private let lock = NSLock()
    nonisolated(unsafe) private var state = State()

    init(store: any DocumentStore, collection: String, logger: Logger) {
        self.store = store
        self.collection = collection
        self.logger = logger
    }

    /// Applies `change` to the `delivery` field of the document `id` in the next batch, then
    /// calls `completion` with the field as it is afterwards, or nil when the document no
    /// longer exists. While the store fails (a database restart, say), the write is tried again
    /// with backoff until `deadline`; after that `completion` gets the store's error.
    func write(
        id: String, until deadline: ContinuousClock.Instant, change: @escaping @Sendable (JSONValue?) -> JSONValue?,
        completion: @escaping @Sendable (Result<JSONValue?, any Error>) -> Void
    ) {
        let startsWriting = lock.withLock {
            state.pending.append(Pending(update: FieldUpdate(id: id, change: change), deadline: deadline, completion: completion))
            guard !state.isWriting else { return false }
            state.isWriting = true
            return true
        }
        if startsWriting {
            Task { await self.writeQueuedBatches() }
        }
    }

    private func writeQueuedBatches() async {
        var retryDelay: Duration = .milliseconds(250)
        while let batch = nextBatch() {
            do {
                let values = try await store.updateFieldBatch("delivery", batch.map(\.update), in: collection)
                for (pending, value) in zip(batch, values) {
                    pending.completion(.success(value))
                }
                retryDelay = .milliseconds(250)
            } catch {
                await retryLater(batch, after: error, delay: retryDelay)
                retryDelay = min(retryDelay * 2, .seconds(5))
            }
        }
    }

    /// Fails the outcomes whose deadline comes before the next try, and puts the others back at
    /// the head of the queue after `delay`.
    private func retryLater(_ batch: [Pending], after error: any Error, delay: Duration) async {
        let nextTry = ContinuousClock.now.advanced(by: delay)
        let retried = batch.filter { nextTry < $0.deadline }
        for pending in batch where nextTry >= pending.deadline {
            pending.completion(.failure(error))
        }
        guard !retried.isEmpty else { return }

        logger.warning(
            "recording outcomes failed; trying again",
            ["mail.collection": collection, "mail.outcomes": String(retried.count), "store.error": "\(error)"])
        try? await Task.sleep(for: delay)
        lock.withLock {
            state.pending.insert(contentsOf: retried, at: 0)
        }
    }

    /// Takes up to `maxBatchSize` queued outcomes, or returns nil and stops writing when none
    /// are left.
    private func nextBatch() -> [Pending]? {
        lock.withLock {
            guard !state.pending.isEmpty else {
                state.isWriting = false
                return nil
            }
            let batch = Array(state.pending.prefix(Self.maxBatchSize))
            state.pending.removeFirst(batch.count)
            return batch
        }
    }
}
