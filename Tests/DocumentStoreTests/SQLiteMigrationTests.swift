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
