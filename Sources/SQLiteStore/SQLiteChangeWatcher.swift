import BlockingThreads
import DocumentStore
import Foundation

/// Notices commits made by other processes to the same database file.
///
/// SQLite has no cross-process notification, but `PRAGMA data_version` changes on a connection
/// whenever another connection commits, and every commit in WAL mode writes the `-wal` file.
/// The watcher waits for inotify to report a write to that file, then reads `data_version`, so
/// a commit by `trigger-email add` or any other writer wakes the processor within about a
/// millisecond. It also reads `data_version` every 10 ms, for file systems without inotify.
final class SQLiteChangeWatcher: @unchecked Sendable {
    static let pollIntervalMilliseconds: Int32 = 10

    private let connection: SQLiteConnection
    private let notifier: ChangeNotifier
    private let stopped = ManagedAtomicFlag()
    /// An inotify descriptor watching the database's folder, or -1 when inotify is unavailable.
    private let inotify: Int32
    private let walFileName: String

    init(path: String, notifier: ChangeNotifier) throws {
        self.connection = try SQLiteConnection(path: path, busyTimeout: .seconds(1))
        self.notifier = notifier

        // The folder is watched rather than the -wal file, because SQLite deletes that file
        // when the last connection closes and creates it again on the next write.
        let url = URL(fileURLWithPath: path)
        self.walFileName = url.lastPathComponent + "-wal"
        let inotify = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        if inotify >= 0, inotify_add_watch(inotify, url.deletingLastPathComponent().path, UInt32(IN_MODIFY | IN_CREATE)) < 0 {
            close(inotify)
            self.inotify = -1
        } else {
            self.inotify = inotify
        }

        // The first version is read before the store is returned, so a commit that lands before
        // the thread's first poll still counts as a change.
        let initialVersion = readDataVersion()
        KernelThreadName.startThread(named: "sqlite-watcher") { [self] in self.watch(from: initialVersion) }
    }

    func stop() {
        stopped.set()
    }

    private func watch(from initialVersion: Int64?) {
        var lastVersion = initialVersion
        while !stopped.isSet {
            var sawWrite = waitForWALWrite(timeoutMilliseconds: Self.pollIntervalMilliseconds)

            // A write that shows no new version yet belongs to a commit, this process's own or
            // another's, whose WAL index update in shared memory (which raises no inotify event)
            // has not landed. Looking again a millisecond later catches it, and meanwhile the
            // events of further writes merge in the inotify queue, so under load the watcher
            // wakes about once a millisecond instead of once per page written.
            while !noticeNewVersion(after: &lastVersion), sawWrite, !stopped.isSet {
                usleep(1000)
                sawWrite = drainEventsNamingWALFile()
            }
        }
        connection.close()
        if inotify >= 0 { close(inotify) }
    }

    /// Notifies when `data_version` differs from `lastVersion`, and returns whether it did.
    private func noticeNewVersion(after lastVersion: inout Int64?) -> Bool {
        let version = readDataVersion()
        guard version != lastVersion else { return false }
        lastVersion = version
        notifier.notify()
        return true
    }

    /// Returns true when the `-wal` file was written or created, or false after the timeout.
    private func waitForWALWrite(timeoutMilliseconds: Int32) -> Bool {
        guard inotify >= 0 else {
            usleep(useconds_t(timeoutMilliseconds) * 1000)
            return false
        }

        var descriptor = pollfd(fd: inotify, events: Int16(POLLIN), revents: 0)
        let deadline = ContinuousClock.now + .milliseconds(Int(timeoutMilliseconds))
        while ContinuousClock.now < deadline {
            let remaining = deadline - ContinuousClock.now
            let milliseconds = Int32(max(1, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000))
            guard poll(&descriptor, 1, milliseconds) > 0 else { return false }
            if drainEventsNamingWALFile() { return true }
        }
        return false
    }

    /// Reads every pending inotify event and returns whether one of them concerns the `-wal` file.
    private func drainEventsNamingWALFile() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var sawWALFile = false
        while true {
            let count = buffer.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
            guard count > 0 else { return sawWALFile }

            var offset = 0
            while offset + MemoryLayout<inotify_event>.size <= count {
                let (nameLength, name) = buffer.withUnsafeBytes { raw -> (Int, String) in
                    let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    let nameStart = offset + MemoryLayout<inotify_event>.size
                    let nameBytes = raw[nameStart..<min(nameStart + Int(event.len), count)].prefix { $0 != 0 }
                    return (Int(event.len), String(decoding: nameBytes, as: UTF8.self))
                }
                if name == walFileName { sawWALFile = true }
                offset += MemoryLayout<inotify_event>.size + nameLength
            }
        }
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
