import CSQLite
import DocumentStore
import Foundation
@testable import SQLiteStore
import TestSupport
import Testing

@Suite("SQLite schema migrations")
struct SQLiteMigrationTests {
    @Test("version 1 file migrates and uses the indexes")
    func versionOneMigrates() async throws {
        let directory = try TestEnvironment.makeTemporaryDirectory()
        let path = directory.appendingPathComponent("old.db").path
        try withRawDatabase(path) { database in
            try execute(SQLiteSchema.migrations[0], on: database)
            try execute("PRAGMA user_version = 1", on: database)
            try execute(
                """
                INSERT INTO documents (collection, id, data, create_time, update_time) VALUES
                ('mail', 'sent', '{"delivery":{"state":"SUCCESS"}}', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'),
                ('mail', 'waiting', '{"delivery":{"state":"PENDING"}}', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'),
                ('mail', 'new', '{"to":"a@example.org"}', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')
                """, on: database)
        }

        let store = try await SQLiteStore.open(path: path)
        let claimed = try await store.claim(from: "mail", readyStates: ["PENDING", "RETRY"], limit: 10) { $0.data }
        await store.close()
        #expect(claimed.map(\.id) == ["waiting", "new"])

        try withRawDatabase(path) { database in
            #expect(try firstColumn("PRAGMA user_version", on: database) == "\(SQLiteSchema.version)")
            let plan = try firstColumn(
                """
                EXPLAIN QUERY PLAN SELECT sequence FROM documents WHERE collection = 'mail'
                AND (delivery_state IS NULL OR delivery_state IN ('PENDING', 'RETRY')) ORDER BY sequence LIMIT 8
                """, on: database, column: 3)
            #expect(plan.contains("documents_ready"), "query plan: \(plan)")
            let listPlan = try firstColumn(
                """
                EXPLAIN QUERY PLAN SELECT sequence FROM documents WHERE collection = 'mail'
                AND sequence < 9223372036854775807 ORDER BY sequence DESC LIMIT 51
                """, on: database, column: 3)
            #expect(listPlan.contains("documents_by_collection"), "query plan: \(listPlan)")
        }
        try FileManager.default.removeItem(at: directory)
    }
}

private struct RawSQLiteError: Error, CustomStringConvertible {
    var description: String
}

private func withRawDatabase(_ path: String, _ body: (OpaquePointer) throws -> Void) throws {
    var database: OpaquePointer?
    guard sqlite3_open(path, &database) == SQLITE_OK, let database else {
        throw RawSQLiteError(description: "cannot open \(path)")
    }
    defer { sqlite3_close(database) }
    // The store's change watcher may still be closing its own connection to the file.
    sqlite3_busy_timeout(database, 5000)
    try body(database)
}

private func execute(_ sql: String, on database: OpaquePointer) throws {
    guard sqlite3_exec(database, sql, nil, nil, nil) == SQLITE_OK else {
        throw RawSQLiteError(description: "\(sql): \(String(cString: sqlite3_errmsg(database)))")
    }
}

/// Returns one column of the first row of `sql` as text.
private func firstColumn(_ sql: String, on database: OpaquePointer, column: Int32 = 0) throws -> String {
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
