import DocumentStore
import Foundation

/// Notices commits made by other processes to the same database file.
///
/// SQLite has no cross-process notification, but `PRAGMA data_version` changes on a connection
/// whenever another connection commits. Polling it every 10 ms on a separate connection costs a
/// few microseconds per poll and wakes the processor within about 10 ms of a commit by
/// `trigger-email add` or any other writer.
final class SQLiteChangeWatcher: @unchecked Sendable {
    static let pollInterval: useconds_t = 10_000

    private let connection: SQLiteConnection
    private let notifier: ChangeNotifier
    private let stopped = ManagedAtomicFlag()

    init(path: String, notifier: ChangeNotifier) throws {
        self.connection = try SQLiteConnection(path: path, busyTimeout: .seconds(1))
        self.notifier = notifier

        // The first version is read before the store is returned, so a commit that lands before
        // the thread's first poll still counts as a change.
        let initialVersion = readDataVersion()
        let thread = Thread { [self] in self.watch(from: initialVersion) }
        thread.name = "sqlite-watcher"
        thread.start()
    }

    func stop() {
        stopped.set()
    }

    private func watch(from initialVersion: Int64?) {
        var lastVersion = initialVersion
        while !stopped.isSet {
            usleep(Self.pollInterval)
            let version = readDataVersion()
            if version != lastVersion {
                lastVersion = version
                notifier.notify()
            }
        }
        connection.close()
    }

    private func readDataVersion() -> Int64? {
        guard let statement = try? connection.prepare("PRAGMA data_version"), (try? statement.step()) == true else {
            return nil
        }
        let version = statement.int64(at: 0)
        statement.reset()
        return version
    }
}

/// A boolean that one thread sets and another reads.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }

    func set() {
        lock.lock()
        value = true
        lock.unlock()
    }
}
