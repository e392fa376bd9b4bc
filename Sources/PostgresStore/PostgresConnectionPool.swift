import Foundation

/// The idle connections of a store, shared by its threads. A thread takes one for each
/// operation and gives it back afterwards, unless it broke.
final class PostgresConnectionPool: @unchecked Sendable {
    private let url: String
    private let displayURL: String
    private let lock = NSLock()
    private var idle: [PostgresConnection] = []
    private var isClosed = false

    static let connectTimeout: Duration = .seconds(10)

    init(url: String, displayURL: String) {
        self.url = url
        self.displayURL = displayURL
    }

    /// Runs `work` with a connection, on the calling thread, which must be one of the store's.
    /// With `isRetriable`, a connection failure of the first statement is retried once with a
    /// new connection, because a pooled connection learns only then that the server restarted.
    func withConnection<Result>(isRetriable: Bool, _ work: (PostgresConnection) throws -> Result) throws -> Result {
        let connection = try checkOut()
        let firstQuery = connection.queryCount + 1
        do {
            let result = try work(connection)
            checkIn(connection)
            return result
        } catch let error as PostgresError where isRetriable && error.isConnectionFailure && connection.queryCount <= firstQuery {
            connection.close()
            let fresh = try connect()
            let result = try work(fresh)
            checkIn(fresh)
            return result
        } catch {
            checkIn(connection)
            throw error
        }
    }

    private func checkOut() throws -> PostgresConnection {
        let pooled: PostgresConnection? = try lock.withLock {
            guard !isClosed else { throw PostgresError(.connectionLost, "The PostgreSQL store \(displayURL) is closed.") }
            return idle.popLast()
        }
        if let pooled {
            if pooled.isIdleAndOpen { return pooled }
            pooled.close()
        }
        return try connect()
    }

    private func connect() throws -> PostgresConnection {
        try PostgresConnection(url: url, displayURL: displayURL, timeout: Self.connectTimeout)
    }

    private func checkIn(_ connection: PostgresConnection) {
        guard !connection.isBroken else { return }
        let keep = lock.withLock {
            guard !isClosed else { return false }
            idle.append(connection)
            return true
        }
        if !keep { connection.close() }
    }

    /// Refuses new work, and closes the idle connections; busy ones close when they come back.
    func close() {
        let closing = lock.withLock {
            isClosed = true
            defer { idle.removeAll() }
            return idle
        }
        closing.forEach { $0.close() }
    }
}
