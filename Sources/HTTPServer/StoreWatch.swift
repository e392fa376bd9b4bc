import DocumentStore
import Foundation

/// Makes event streams that follow the store, and ends them all when the server stops.
final class WatchRegistry: @unchecked Sendable {
    private let store: any DocumentStore
    private let lock = NSLock()
    private var isStopped = false

    init(store: any DocumentStore) {
        self.store = store
    }

    var stopped: Bool { lock.withLock { isStopped } }

    /// Ends every stream within a second.
    func stop() {
        lock.withLock { isStopped = true }
    }

    /// Returns a `text/event-stream` response that sends `snapshot()` at once and again after every
    /// change of the store that changes it.
    func stream(_ snapshot: @escaping @Sendable () async throws -> JSONValue) -> HTTPResponse {
        HTTPResponse(
            status: 200,
            headers: [("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-store"), ("X-Accel-Buffering", "no")],
            body: .events(StoreWatch(store: store, registry: self, snapshot: snapshot)))
    }
}

/// Server-sent events with the latest snapshot of a document or a listing.
///
/// After a store change, the watch waits 100 ms, takes a new snapshot and sends it as
/// `event: change` when it differs from the last one sent. A comment line every 15 seconds
/// keeps idle connections and proxies open. A snapshot that fails is sent as `event: error`
/// and ends the stream, so the client reconnects.
final class StoreWatch: EventStream, @unchecked Sendable {
    private let store: any DocumentStore
    private let registry: WatchRegistry
    private let snapshot: @Sendable () async throws -> JSONValue
    // Touched only by the connection's thread.
    private var lastSent: JSONValue?
    private var seenChanges: UInt64 = 0
    private var isFinished = false
    private let closedLock = NSLock()
    private var isClosed = false

    private static let keepAliveInterval: Duration = .seconds(15)
    private static let waitSlice: Duration = .seconds(1)
    private static let coalescingPause: TimeInterval = 0.1

    init(store: any DocumentStore, registry: WatchRegistry, snapshot: @escaping @Sendable () async throws -> JSONValue) {
        self.store = store
        self.registry = registry
        self.snapshot = snapshot
    }

    func nextChunk() -> [UInt8]? {
        guard !isFinished else { return nil }
        if lastSent == nil {
            seenChanges = store.changeCount
            return takeSnapshot()
        }

        let keepAliveDeadline = ContinuousClock.now.advanced(by: Self.keepAliveInterval)
        while ContinuousClock.now < keepAliveDeadline {
            if registry.stopped || closed { return nil }

            let seen = seenChanges
            let store = store
            waitOnThisThread { await store.waitForChange(after: seen, timeout: Self.waitSlice) }
            guard store.changeCount != seen else { continue }

            // Changes often come in bursts (a claim, then the outcome), so one snapshot after a
            // short pause covers the whole burst.
            Thread.sleep(forTimeInterval: Self.coalescingPause)
            seenChanges = store.changeCount
            if let chunk = takeSnapshot() { return chunk }
            if isFinished { return nil }
        }
        return Array(": keep-alive\n\n".utf8)
    }

    /// Returns the event for a new snapshot, or `nil` when nothing changed.
    private func takeSnapshot() -> [UInt8]? {
        let snapshot = snapshot
        let result = waitOnThisThread { () -> Result<JSONValue, any Error> in
            do { return .success(try await snapshot()) } catch { return .failure(error) }
        }
        switch result {
        case .success(let value):
            guard value != lastSent else { return nil }
            lastSent = value
            return Array("event: change\ndata: \(value.serialized())\n\n".utf8)
        case .failure(let error):
            isFinished = true
            let message: JSONValue = ["error": ["code": 503, "message": .string(String(describing: error))]]
            return Array("event: error\ndata: \(message.serialized())\n\n".utf8)
        }
    }

    private var closed: Bool { closedLock.withLock { isClosed } }

    func close() {
        closedLock.withLock { isClosed = true }
    }
}

/// Runs `work` on Swift's cooperative pool and blocks the calling thread, which must not be one
/// of the pool's, until it returns.
func waitOnThisThread<Value: Sendable>(_ work: @escaping @Sendable () async -> Value) -> Value {
    let box = ValueBox<Value>()
    let done = DispatchSemaphore(value: 0)
    Task {
        box.value = await work()
        done.signal()
    }
    done.wait()
    return box.value!
}

private final class ValueBox<Value>: @unchecked Sendable {
    var value: Value?
}
