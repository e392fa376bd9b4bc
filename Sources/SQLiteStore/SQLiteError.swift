import CSQLite

/// A failed SQLite call: the result code, SQLite's own message and the operation that failed.
public struct SQLiteError: Error, CustomStringConvertible {
    public var code: Int32
    public var message: String
    public var operation: String

    public var description: String {
        "SQLite failed to \(operation): \(message) (code \(code))."
    }

    /// Whether another connection held the lock for longer than the busy timeout.
    public var isBusy: Bool {
        code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED
    }
}
