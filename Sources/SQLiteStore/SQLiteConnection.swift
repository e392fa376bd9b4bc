import CSQLite
import Foundation

/// One SQLite connection with a cache of prepared statements. Every call checks its result and
/// turns a failure into a `SQLiteError`.
///
/// Not thread-safe: the owner keeps it on one thread (see `SQLiteStore`).
final class SQLiteConnection {
    private var handle: OpaquePointer?
    private var statements: [String: SQLiteStatement] = [:]

    /// Opens (and creates) the database file. `busyTimeout` bounds how long a write waits for
    /// another process's transaction before failing.
    init(path: String, busyTimeout: Duration) throws {
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let result = sqlite3_open_v2(path, &handle, flags, nil)
        guard result == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            handle = nil
            throw SQLiteError(code: result, message: message, operation: "open the database file \(path)")
        }

        sqlite3_extended_result_codes(handle, 1)
        let (seconds, attoseconds) = busyTimeout.components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        // SQLite's own busy timeout sleeps 1, 2, 5, 10 ... up to 100 ms between retries, so a
        // write that meets another process's short transaction could wait 100 ms for a lock
        // held for one. Retrying every 200 microseconds keeps that wait short.
        let maxRetries = Int32(clamping: milliseconds * 5)
        sqlite3_busy_handler(handle, { context, retries in
            let maxRetries = Int32(Int(bitPattern: context))
            guard retries < maxRetries else { return 0 }
            usleep(200)
            return 1
        }, UnsafeMutableRawPointer(bitPattern: Int(maxRetries)))
    }

    deinit {
        close()
    }

    func close() {
        for statement in statements.values {
            statement.finalize()
        }
        statements.removeAll()
        if let handle {
            sqlite3_close_v2(handle)
        }
        handle = nil
    }

    private var database: OpaquePointer {
        get throws {
            guard let handle else {
                throw SQLiteError(code: SQLITE_MISUSE, message: "the connection is closed", operation: "use the database")
            }
            return handle
        }
    }

    /// The number of rows that the last INSERT, UPDATE or DELETE changed. Reading it through
    /// the C API spares preparing and stepping a `SELECT changes()` statement.
    var changedRowCount: Int {
        get throws { Int(sqlite3_changes(try database)) }
    }

    /// Runs one or more statements that return no rows.
    func execute(_ sql: String) throws {
        let database = try database
        var errorMessage: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(database, sql, nil, nil, &errorMessage)
        guard result == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(database))
            sqlite3_free(errorMessage)
            throw SQLiteError(code: result, message: message, operation: "run \(sql)")
        }
    }

    /// Returns the prepared statement for `sql`, compiling it once per connection.
    func prepare(_ sql: String) throws -> SQLiteStatement {
        if let cached = statements[sql] {
            cached.reset()
            return cached
        }

        let database = try database
        var statementHandle: OpaquePointer?
        let result = sqlite3_prepare_v3(database, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statementHandle, nil)
        guard result == SQLITE_OK, let statementHandle else {
            throw SQLiteError(code: result, message: String(cString: sqlite3_errmsg(database)), operation: "prepare \(sql)")
        }

        let statement = SQLiteStatement(handle: statementHandle, database: database, sql: sql)
        statements[sql] = statement
        return statement
    }

    /// Runs `body` inside `BEGIN IMMEDIATE ... COMMIT`, rolling back when it throws. IMMEDIATE
    /// takes the write lock at the start, so two processes never both read a row as claimable and
    /// then both write it.
    func inWriteTransaction<Result>(_ body: () throws -> Result) throws -> Result {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}

/// A prepared statement. Bind parameters by position (1-based), then step through rows.
final class SQLiteStatement {
    private let handle: OpaquePointer
    private let database: OpaquePointer
    let sql: String

    init(handle: OpaquePointer, database: OpaquePointer, sql: String) {
        self.handle = handle
        self.database = database
        self.sql = sql
    }

    func finalize() {
        sqlite3_finalize(handle)
    }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func bind(_ values: [SQLiteValue]) throws {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let result: Int32
            switch value {
            case .integer(let integer):
                result = sqlite3_bind_int64(handle, index, integer)
            case .text(let text):
                result = sqlite3_bind_text(handle, index, text, -1, csqlite_transient())
            case .null:
                result = sqlite3_bind_null(handle, index)
            }
            guard result == SQLITE_OK else {
                throw SQLiteError(code: result, message: String(cString: sqlite3_errmsg(database)), operation: "bind a parameter of \(sql)")
            }
        }
    }

    /// Advances to the next row; returns `false` when there are no more.
    func step() throws -> Bool {
        let result = sqlite3_step(handle)
        switch result {
        case SQLITE_ROW:
            return true
        case SQLITE_DONE:
            return false
        default:
            let error = SQLiteError(code: result, message: String(cString: sqlite3_errmsg(database)), operation: "run \(sql)")
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Binds, runs to completion and resets a statement that returns no rows.
    func run(_ values: [SQLiteValue]) throws {
        try bind(values)
        while try step() {}
        reset()
    }

    func int64(at column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    func text(at column: Int32) -> String {
        guard let pointer = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    func isNull(at column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    func bytes(at column: Int32) -> [UInt8] {
        guard let pointer = sqlite3_column_text(handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, column))
        return Array(UnsafeBufferPointer(start: pointer, count: count))
    }
}

enum SQLiteValue {
    case integer(Int64)
    case text(String)
    case null
}
