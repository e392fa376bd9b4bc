import CSQLite

// SQL on a store's file through SQLite's own API, for rows the store itself would not write.

struct RawSQLiteError: Error, CustomStringConvertible {
    var description: String
}

func withRawDatabase(_ path: String, _ body: (OpaquePointer) throws -> Void) throws {
    var database: OpaquePointer?
    guard sqlite3_open(path, &database) == SQLITE_OK, let database else {
        throw RawSQLiteError(description: "cannot open \(path)")
    }
    defer { sqlite3_close(database) }
    // The store's change watcher may still be closing its own connection to the file.
    sqlite3_busy_timeout(database, 5000)
    try body(database)
}

func execute(_ sql: String, on database: OpaquePointer) throws {
    guard sqlite3_exec(database, sql, nil, nil, nil) == SQLITE_OK else {
        throw RawSQLiteError(description: "\(sql): \(String(cString: sqlite3_errmsg(database)))")
    }
}

/// Returns one column of the first row of `sql` as text.
func firstColumn(_ sql: String, on database: OpaquePointer, column: Int32 = 0) throws -> String {
    var statement: OpaquePointer?
    guard sqlite3_prepare_v2(database, sql, -1, &statement, nil) == SQLITE_OK else {
        throw RawSQLiteError(description: "\(sql): \(String(cString: sqlite3_errmsg(database)))")
    }
    defer { sqlite3_finalize(statement) }
    let result = sqlite3_step(statement)
    guard result == SQLITE_ROW, let text = sqlite3_column_text(statement, column) else {
        throw RawSQLiteError(description: "\(sql) returned no row (result code \(result): \(String(cString: sqlite3_errmsg(database))))")
    }
    return String(cString: text)
}
