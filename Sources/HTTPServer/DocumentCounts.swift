import DocumentStore
import TriggerEmail

/// The mail documents by state, counted at most once a second.
///
/// Each count reads the collection's index, so its cost grows with the collection, and the
/// dashboard and scrapers may ask many times a second. Requests within a second of a count
/// get that count, so their number does not slow delivery.
actor DocumentCounts {
    private let store: any DocumentStore
    private let mailCollection: String
    private var last: (time: ContinuousClock.Instant, counts: [(String, Int?)])?
    private var running: Task<[(String, Int?)], Never>?

    init(store: any DocumentStore, mailCollection: String) {
        self.store = store
        self.mailCollection = mailCollection
    }

    /// Counts by state, `nil` where the store failed. OTHER is what the known states leave of
    /// the total.
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
        var counts: [(String, Int?)] = []
        for state in DeliveryState.allCases {
            counts.append((state.rawValue, try? await store.count(collection, state: state.rawValue)))
        }
        let total = try? await store.count(collection, state: nil)
        let known = counts.compactMap(\.1)
        let other = total.flatMap { known.count == counts.count ? $0 - known.reduce(0, +) : nil }
        return counts + [("OTHER", other)]
    }
}
