import DocumentStore
import Foundation

/// Writes delivery outcomes in batches. While one batch commits, the outcomes that arrive queue
/// up and go into the next transaction, so under load many outcomes share one commit, and an
/// outcome that arrives alone is written at once.
final class OutcomeWriter: Sendable {
    private struct Pending {
        var update: FieldUpdate
        var continuation: CheckedContinuation<JSONValue?, any Error>
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
    private let lock = NSLock()
    nonisolated(unsafe) private var state = State()

    init(store: any DocumentStore, collection: String) {
        self.store = store
        self.collection = collection
    }

    /// Applies `change` to the `delivery` field of the document `id` in the next batch and
    /// returns the field as it is afterwards, or nil when the document no longer exists.
    func write(id: String, change: @escaping @Sendable (JSONValue?) -> JSONValue?) async throws -> JSONValue? {
        try await withCheckedThrowingContinuation { continuation in
            let startsWriting = lock.withLock {
                state.pending.append(Pending(update: FieldUpdate(id: id, change: change), continuation: continuation))
                guard !state.isWriting else { return false }
                state.isWriting = true
                return true
            }
            if startsWriting {
                Task { await self.writeQueuedBatches() }
            }
        }
    }

    private func writeQueuedBatches() async {
        while let batch = nextBatch() {
            do {
                let values = try await store.updateFieldBatch("delivery", batch.map(\.update), in: collection)
                for (pending, value) in zip(batch, values) {
                    pending.continuation.resume(returning: value)
                }
            } catch {
                for pending in batch {
                    pending.continuation.resume(throwing: error)
                }
            }
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
