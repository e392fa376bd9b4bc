import BlockingThreads
import DocumentStore
import Foundation
import Logging

/// Listens on the change channel with a connection of its own, on a thread of its own, and
/// turns every notification into a `ChangeNotifier` wake-up.
///
/// A lost connection is made again with backoff (0.1 s, doubling up to 5 s). Notifications sent
/// while no connection listened are lost, so the listener wakes the waiters after every reconnect and
/// they look at the table again: no document waits longer than the processor's idle poll.
final class PostgresChangeListener: @unchecked Sendable {
    private let url: String
    private let displayURL: String
    private let notifier: ChangeNotifier
    private let logger: Logger?
    private let lock = NSLock()
    private var isStopped = false

    private static let connectTimeout: Duration = .seconds(10)
    private static let stopCheckInterval: Duration = .milliseconds(250)
    private static let firstBackoff: Duration = .milliseconds(100)
    private static let maxBackoff: Duration = .seconds(5)

    /// Opens the listening connection before it returns, so that every write after `open`
    /// wakes the store's waiters.
    init(url: String, displayURL: String, notifier: ChangeNotifier, logger: Logger?) throws {
        self.url = url
        self.displayURL = displayURL
        self.notifier = notifier
        self.logger = logger

        let connection = UncheckedConnection(try Self.connect(url: url, displayURL: displayURL))
        KernelThreadName.startThread(named: "postgres-listen") { [self] in self.run(first: connection.value) }
    }

    private static func connect(url: String, displayURL: String) throws -> PostgresConnection {
        let connection = try PostgresConnection(url: url, displayURL: displayURL, timeout: connectTimeout)
        try connection.query("LISTEN \(PostgresSchema.changeChannel)", timeout: connectTimeout)
        return connection
    }

    /// Ends the thread within a quarter of a second.
    func stop() {
        lock.withLock { isStopped = true }
    }

    private var stopped: Bool {
        lock.withLock { isStopped }
    }

    private func run(first: PostgresConnection) {
        var connection: PostgresConnection? = first
        var backoff = Self.firstBackoff
        var failures = 0
        while !stopped {
            do {
                if connection == nil {
                    connection = try Self.connect(url: url, displayURL: displayURL)
                    logger?.notice("listening for PostgreSQL notifications again", ["store.failures": String(failures)])
                    backoff = Self.firstBackoff
                    failures = 0
                    notifier.notify()
                }
                try listen(on: connection!)
            } catch {
                connection?.close()
                connection = nil
                failures += 1
                // One line for the first failure and then one for every tenth keeps a long
                // outage from flooding the log.
                if failures == 1 || failures % 10 == 0 {
                    logger?.warning("PostgreSQL notification connection failed", ["error": "\(error)", "store.failures": String(failures)])
                }
                notifier.notify()
                Thread.sleep(forTimeInterval: Double(backoff.components.seconds) + Double(backoff.components.attoseconds) / 1e18)
                backoff = min(backoff * 2, Self.maxBackoff)
            }
        }
        connection?.close()
    }

    /// Waits for notifications until the listener is stopped or the connection fails.
    private func listen(on connection: PostgresConnection) throws(PostgresError) {
        while !stopped {
            let deadline = ContinuousClock.now.advanced(by: Self.stopCheckInterval)
            guard try connection.waitForSocket(Int16(POLLIN), until: deadline) else { continue }

            if try !connection.receiveNotifications().isEmpty {
                notifier.notify()
            }
            if connection.isBroken {
                throw PostgresError(.connectionLost, "The PostgreSQL server at \(displayURL) closed the notification connection.")
            }
        }
    }
}

/// Hands the first connection, made on the opening thread, to the listener's thread.
private struct UncheckedConnection: @unchecked Sendable {
    let value: PostgresConnection
    init(_ value: PostgresConnection) { self.value = value }
}
