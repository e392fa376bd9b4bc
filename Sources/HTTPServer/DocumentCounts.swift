import DocumentStore
import TriggerEmail

/// The mail documents by state, counted at most once a second.
///
/// Each count reads the collection's index, so its cost grows with the collection, and the
/// dashboard and scrapers may request counts many times a second. `current()` reuses a count
/// for a second and lets concurrent requests share one query.
actor DocumentCounts {
    private let store: any DocumentStore
    private let mailCollection: String
    private var last: (time: ContinuousClock.Instant, counts: [(String, Int?)])?
    private var running: Task<[(String, Int?)], Never>?

    init(store: any DocumentStore, mailCollection: String) {
        self.store = store
        self.mailCollection = mailCollection
    }

    /// Counts by state, all `nil` when the store failed. OTHER counts documents without a
    /// state or with an unknown one.
    func current() async -> [(String, Int?)] {
        if let last, ContinuousClock.now - last.time < .seconds(1) { return last.counts }
        if let running { return await running.value }

        let store = store
        let collection = mailCollection
        let task = Task { await Self.count(store, collection) }
        running = task
        let counts = await task.value
        last = (.now, counts)
        running = nil
        return counts
    }

    private static func count(_ store: any DocumentStore, _ collection: String) async -> [(String, Int?)] {
        guard let byState = try? await store.countByState(collection) else {
            return (DeliveryState.allCases.map(\.rawValue) + ["OTHER"]).map { ($0, nil) }
        }
        let known = DeliveryState.allCases.map(\.rawValue)
        let other = byState.filter { state, _ in state.map { !known.contains($0) } ?? true }.values.reduce(0, +)
        return known.map { ($0, byState[$0] ?? 0) } + [("OTHER", other)]
    }
}
