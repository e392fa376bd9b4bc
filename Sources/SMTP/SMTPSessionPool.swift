import Foundation

/// Open sessions waiting for their next message, with the counts the tests and the metrics
/// read. Sessions are checked out on a client thread and used by one message at a time.
final class SMTPSessionPool: @unchecked Sendable {
    private struct IdleSession {
        var session: SMTPSession
        var idleSince: ContinuousClock.Instant
    }

    private let lock = NSLock()
    private var idle: [IdleSession] = []
    private var opened = 0
    private var inUse = 0
    private let idleTimeout: Duration

    init(idleTimeout: Duration) {
        self.idleTimeout = idleTimeout
    }

    /// Connections opened since the client started.
    var connectionsOpened: Int {
        lock.withLock { opened }
    }

    var idleCount: Int {
        lock.withLock { idle.count }
    }

    /// Sessions carrying a message at the moment.
    var inUseCount: Int {
        lock.withLock { inUse }
    }

    func recordInUse(_ delta: Int) {
        lock.withLock { inUse += delta }
    }

    func recordOpened() {
        lock.withLock { opened += 1 }
    }

    /// Takes the most recently used idle session, and hands back those idle for too long so
    /// the caller can close them.
    func checkOut() -> (session: SMTPSession?, expired: [SMTPSession]) {
        lock.withLock {
            let expired = takeExpired()
            return (idle.popLast()?.session, expired)
        }
    }

    func checkIn(_ session: SMTPSession) {
        lock.withLock {
            idle.append(IdleSession(session: session, idleSince: .now))
        }
    }

    /// Removes and returns the sessions idle longer than the idle timeout.
    func takeExpiredSessions() -> [SMTPSession] {
        lock.withLock { takeExpired() }
    }

    /// Removes and returns every idle session, for shutting down.
    func takeAll() -> [SMTPSession] {
        lock.withLock {
            defer { idle.removeAll() }
            return idle.map(\.session)
        }
    }

    private func takeExpired() -> [SMTPSession] {
        let now = ContinuousClock.now
        let expired = idle.filter { now - $0.idleSince >= idleTimeout }.map(\.session)
        idle.removeAll { now - $0.idleSince >= idleTimeout }
        return expired
    }
}
