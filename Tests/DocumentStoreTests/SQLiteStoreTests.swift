import CSQLite
import DocumentStore
import Foundation
import SQLiteStore
import TestSupport
import Testing

/// What only SQLite does; the shared behavior is in `DocumentStoreContractTests`.
@Suite("SQLiteStore")
struct SQLiteStoreTests {
    static let contract = StoreBackend.sqlite.contract

    @Test("WAL file exists after a write")
    func walMode() async throws {
        try await Self.contract.withStore { store in
            let sqlite = try #require(store as? SQLiteStore)
            _ = try await store.add(["n": 1], to: DocumentStoreContract.collection, id: nil)

            #expect(FileManager.default.fileExists(atPath: sqlite.path + "-wal"))
        }
    }

    @Test("unreadable row ends in ERROR")
    func unreadableRow() async throws {
        try await Self.contract.withStore { store in
            let sqlite = try #require(store as? SQLiteStore)
            let collection = DocumentStoreContract.collection
            // SQLite accepts 1e400 as JSON, but the number is beyond a double's range, so the
            // store's reader rejects the row.
            try Self.insertRow(id: "huge-number", data: #"{"to": "a@example.org", "n": 1e400}"#, into: sqlite)
            _ = try await store.add(["to": "b@example.org"], to: collection, id: "fine")

            let claimed = try await store.claim(from: collection, readyStates: ["PENDING", "RETRY"], limit: 10) { $0.data }
            let values = try Self.rawValues(
                ["json_extract(data, '$.delivery.state')", "json_extract(data, '$.delivery.error')", "json_extract(data, '$.to')"],
                ofRow: "huge-number", in: sqlite)
            let (state, error, recipient) = (values[0], values[1], values[2])

            #expect(claimed.map(\.id) == ["fine"])
            #expect(state == "ERROR")
            #expect(error.hasPrefix("The document cannot be read: "))
            #expect(error.contains("Correct it with SQL and set delivery.state to RETRY."))
            #expect(recipient == "a@example.org")
        }
    }

    @Test("row that is not an object ends in ERROR")
    func nonObjectRow() async throws {
        try await Self.contract.withStore { store in
            let sqlite = try #require(store as? SQLiteStore)
            let collection = DocumentStoreContract.collection
            try Self.insertRow(id: "text", data: #""a@example.org""#, into: sqlite)

            let first = try await store.claim(from: collection, readyStates: ["PENDING", "RETRY"], limit: 10) { $0.data }
            let second = try await store.claim(from: collection, readyStates: ["PENDING", "RETRY"], limit: 10) { $0.data }
            let document = try #require(try await store.get("text", from: collection))

            #expect(first.isEmpty)
            #expect(second.isEmpty)
            #expect(document.data["unreadableData"] == "a@example.org")
            #expect(document.data["delivery"]?[path: "state"] == "ERROR")
            #expect(document.data["delivery"]?[path: "error"] == .string(
                "The document cannot be read: its data is a string, not an object, so the data was moved to the field unreadableData. Correct it with SQL and set delivery.state to RETRY."))
        }
    }

    @Test("unreadable array ends in ERROR")
    func unreadableArrayRow() async throws {
        try await Self.contract.withStore { store in
            let sqlite = try #require(store as? SQLiteStore)
            let collection = DocumentStoreContract.collection
            try Self.insertRow(id: "array", data: "[1e400]", into: sqlite)

            let first = try await store.claim(from: collection, readyStates: ["PENDING", "RETRY"], limit: 10) { $0.data }
            let second = try await store.claim(from: collection, readyStates: ["PENDING", "RETRY"], limit: 10) { $0.data }
            let values = try Self.rawValues(
                ["json_extract(data, '$.delivery.state')", "json_extract(data, '$.delivery.error')", "json_type(data, '$.unreadableData')"],
                ofRow: "array", in: sqlite)
            let (state, error, moved) = (values[0], values[1], values[2])

            #expect(first.isEmpty)
            #expect(second.isEmpty)
            #expect(state == "ERROR")
            #expect(error.hasPrefix("The document cannot be read: "))
            #expect(error.contains(", so the data was moved to the field unreadableData. Correct it with SQL"))
            #expect(moved == "array")
        }
    }

    /// Reads each SQL expression over the row `id` with a connection of its own, as text.
    private static func rawValues(_ expressions: [String], ofRow id: String, in store: SQLiteStore) throws -> [String] {
        var values: [String] = []
        try withRawDatabase(store.path) { database in
            for expression in expressions {
                values.append(try firstColumn("SELECT \(expression) FROM documents WHERE id = '\(id)'", on: database))
            }
        }
        return values
    }

    /// Inserts a row with SQL, as another program could, bypassing the store's checks.
    private static func insertRow(id: String, data: String, into store: SQLiteStore) throws {
        try withRawDatabase(store.path) { database in
            try execute(
                """
                INSERT INTO documents (collection, id, data, create_time, update_time) VALUES
                ('\(DocumentStoreContract.collection)', '\(id)', '\(data)', '2026-12-05T00:00:00.000Z', '2026-12-05T00:00:00.000Z')
                """, on: database)
        }
    }

    @Test("open in a missing folder fails")
    func openMissingFolder() async throws {
        let directory = try TestEnvironment.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("missing/trigger-email.db").path

        let error = await #expect(throws: DocumentStoreError.self) { try await SQLiteStore.open(path: path) }
        #expect(error?.kind == .storage)
        #expect(
            error?.message
                == "Cannot open the SQLite database \(path): SQLite failed to open the database file \(path): unable to open database file (code 14).")
    }
}
