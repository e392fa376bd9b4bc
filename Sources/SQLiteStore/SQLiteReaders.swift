import BlockingThreads
import Foundation

/// Connections for reads, on threads of their own. In WAL mode a reader does not wait for the
/// writer's transaction, so listings for the HTTP API run beside claims and outcome writes,
/// which go through the store's single writing connection.
final class SQLiteReaders: @unchecked Sendable {
    private let path: String
    private let busyTimeout: Duration
    private let threads: BlockingThreadPool
    private let lock = NSLock()
    private var idle: [SQLiteConnection] = []

    init(path: String, busyTimeout: Duration, threadCount: Int) {
        self.path = path
        self.busyTimeout = busyTimeout
        threads = BlockingThreadPool(name: "sqlite-read", threadCount: threadCount)
    }

    /// Runs `work` with a reading connection on one of the reader threads.
    func read<Result: Sendable>(_ work: @escaping @Sendable (SQLiteConnection) throws -> Result) async throws -> Result {
        try await threads.run { [self] in
            let connection = try lock.withLock { idle.popLast() } ?? SQLiteConnection(path: path, busyTimeout: busyTimeout)
            defer { lock.withLock { idle.append(connection) } }
            return try work(connection)
        }
    }

    /// Closes the idle connections and stops the threads; later reads fail.
    func close() async {
        _ = try? await threads.run { [self] in
            let closing = lock.withLock {
                defer { idle.removeAll() }
                return idle
            }
            closing.forEach { $0.close() }
        }
        threads.shutDown()
    }
}
