import DocumentStore
import Foundation
import Logging

/// Extends the leases of every attempt under way in this process, together, every third of the
/// lease, so that only an attempt whose process died or stopped renewing reaches the lease
/// sweep.
///
/// One loop serves all attempts because a sleeping task per attempt is costly: a cancelled
/// `Task.sleep` keeps its timer until the original deadline, so at thousands of messages a
/// second those timers held tens of megabytes.
final class LeaseRenewer: Sendable {
    private let store: any DocumentStore
    private let collection: String
    private let lease: Duration
    private let now: @Sendable () -> Timestamp
    private let logger: Logger
    private let lock = NSLock()
    /// The attempt number of each document under way, by document ID.
    nonisolated(unsafe) private var attempts: [String: Int] = [:]

    init(store: any DocumentStore, collection: String, lease: Duration, now: @escaping @Sendable () -> Timestamp, logger: Logger) {
        self.store = store
        self.collection = collection
        self.lease = lease
        self.now = now
        self.logger = logger
    }

    func add(_ id: String, attempt: Int) {
        lock.withLock { attempts[id] = attempt }
    }

    func remove(_ id: String) {
        lock.withLock { attempts[id] = nil }
    }

    /// Renews every third of the lease until the task is cancelled.
    func run() async {
        while true {
            do {
                try await Task.sleep(for: lease / 3)
            } catch {
                return
            }
            await renewAll()
        }
    }

    private func renewAll() async {
        let current = lock.withLock { attempts }
        guard !current.isEmpty else { return }

        let now = now()
        let lease = lease
        let updates = current.map { id, attempt in
            FieldUpdate(id: id) { delivery in
                DeliveryRecord.renewLease(["delivery": delivery ?? .null], attempt: attempt, at: now, lease: lease)?["delivery"]
            }
        }
        do {
            _ = try await store.updateFieldBatch("delivery", updates, in: collection)
        } catch {
            logger.error(
                "lease renewal failed",
                ["mail.collection": collection, "mail.attempts": String(updates.count), "error": "\(error)"])
        }
    }
}
