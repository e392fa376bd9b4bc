import Foundation

/// Closes connections whose request does not arrive in time.
///
/// libmicrohttpd's own timeout counts silence only, so a client that sends one header line every
/// few seconds would keep a connection, and its thread, forever. Here the header fields must be
/// complete within `headerTimeout` of the connection opening or of the previous response, and
/// the body within `bodyTimeout` of the header fields. Responses, event streams included, have
/// no deadline.
///
/// A late connection's socket is shut down, which ends libmicrohttpd's read on it, and
/// libmicrohttpd then closes the connection as if the client had gone. The shutdown goes through
/// a duplicate of the socket, kept until the connection closes, so the number cannot belong to
/// another connection by then.
final class RequestDeadlines: @unchecked Sendable {
    private struct Entry {
        var socket: Int32
        var deadline: ContinuousClock.Instant?
    }

    let headerTimeout: Duration
    let bodyTimeout: Duration
    private let lock = NSLock()
    private var entries: [OpaquePointer: Entry] = [:]
    private var isStopped = false

    init(headerTimeout: Duration, bodyTimeout: Duration) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
    }

    /// Starts the thread that checks the deadlines once a second.
    func start() {
        let thread = Thread { [self] in
            while !lock.withLock({ isStopped }) {
                Thread.sleep(forTimeInterval: 1)
                shutDownLateConnections()
            }
        }
        thread.name = "http-deadlines"
        thread.start()
    }

    func stop() {
        lock.withLock { isStopped = true }
    }

    func connectionOpened(_ connection: OpaquePointer, socket: Int32) {
        let copy = socket >= 0 ? dup(socket) : -1
        guard copy >= 0 else { return }
        lock.withLock { entries[connection] = Entry(socket: copy, deadline: .now + headerTimeout) }
    }

    func headerReceived(_ connection: OpaquePointer) {
        setDeadline(.now + bodyTimeout, for: connection)
    }

    func requestReceived(_ connection: OpaquePointer) {
        setDeadline(nil, for: connection)
    }

    func responseSent(_ connection: OpaquePointer) {
        setDeadline(.now + headerTimeout, for: connection)
    }

    func connectionClosed(_ connection: OpaquePointer) {
        let entry = lock.withLock { entries.removeValue(forKey: connection) }
        if let entry { close(entry.socket) }
    }

    private func setDeadline(_ deadline: ContinuousClock.Instant?, for connection: OpaquePointer) {
        lock.withLock { entries[connection]?.deadline = deadline }
    }

    private func shutDownLateConnections() {
        let now = ContinuousClock.now
        lock.withLock {
            for (connection, entry) in entries {
                guard let deadline = entry.deadline, deadline < now else { continue }
                shutdown(entry.socket, Int32(SHUT_RDWR))
                entries[connection]?.deadline = nil
            }
        }
    }
}
