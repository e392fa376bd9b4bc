import CSQLite
import DocumentStore
import Foundation
import Logging
@testable import SQLiteStore
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

    @Test("WAL switch waits for a writer")
    func walSwitchWaitsForWriter() async throws {
        let directory = try TestEnvironment.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("rollback.db").path
        var writer: OpaquePointer?
        #expect(sqlite3_open(path, &writer) == SQLITE_OK)
        defer { sqlite3_close(writer) }
        // A file in SQLite's default rollback mode, with a write transaction under way.
        try execute("CREATE TABLE other (n); BEGIN IMMEDIATE; INSERT INTO other VALUES (1)", on: try #require(writer))

        let opening = Task { try await SQLiteStore.open(path: path) }
        try await Task.sleep(for: .milliseconds(300))
        try execute("COMMIT", on: try #require(writer))
        let store = try await opening.value
        _ = try await store.add(["n": 1], to: DocumentStoreContract.collection, id: "after")
        await store.close()

        try withRawDatabase(path) { database throws in
            #expect(try firstColumn("PRAGMA journal_mode", on: database) == "wal")
            #expect(try firstColumn("SELECT id FROM documents", on: database) == "after")
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
            try Self.insertRow(id: "inner-delivery", data: #"{"n": 1e400, "delivery": {"state": "PENDING", "attempts": 5}}"#, into: sqlite)
            _ = try await store.add(["to": "b@example.org"], to: collection, id: "fine")

            let claimed = try await store.claim(from: collection, readyStates: ["PENDING", "RETRY"], limit: 10, DocumentStoreContract.keepDelivery)
            let values = try Self.rawValues(
                ["json_extract(delivery, '$.state')", "json_extract(delivery, '$.error')", "json_extract(data, '$.to')"],
                ofRow: "huge-number", in: sqlite)
            let (state, error, recipient) = (values[0], values[1], values[2])
            let inner = try Self.rawValues(["delivery_state", "json_extract(delivery, '$.attempts')"], ofRow: "inner-delivery", in: sqlite)

            #expect(claimed.map(\.id) == ["fine"])
            #expect(inner == ["ERROR", "5"])
            #expect(state == "ERROR")
            #expect(error.hasPrefix("The document cannot be read: "))
            #expect(error.contains("Correct it with SQL and set delivery.state to RETRY."))
            #expect(recipient == "a@example.org")
        }
    }

    @Test("unreadable expired claim ends in ERROR")
    func unreadableExpiredLease() async throws {
        try await Self.contract.withStore { store in
            let sqlite = try #require(store as? SQLiteStore)
            let claimed = #"{"state": "PROCESSING", "leaseExpireTime": "2026-12-05T00:00:30.000Z", "attempts": 3, "startTime": "2026-12-01T00:00:00.000Z"}"#
            try Self.insertRow(id: "huge-number", data: #"{"to": "a@example.org", "n": 1e400}"#, delivery: claimed, into: sqlite)
            try Self.insertRow(id: "expired", data: #"{"to": "b@example.org"}"#, delivery: claimed, into: sqlite)
            let logs = InMemoryLogHandler()
            let logged = try await SQLiteStore.open(path: sqlite.path, logger: Logger(label: "store", level: .info, handler: logs))

            let expired = try await logged.expiredLeases(
                in: DocumentStoreContract.collection, at: Timestamp(rfc3339: "2026-12-05T00:01:00.000Z")!, limit: 10)
            await logged.close()
            let values = try Self.rawValues(
                ["delivery_state", "json_extract(delivery, '$.error')", "json_extract(delivery, '$.attempts')", "json_extract(delivery, '$.startTime')"],
                ofRow: "huge-number", in: sqlite)

            #expect(expired.map(\.id) == ["expired"])
            #expect(values[0] == "ERROR")
            #expect(values[1] == "The document cannot be read: Invalid JSON at byte 34: number out of range. Correct it with SQL and set delivery.state to RETRY.")
            #expect(values[2] == "3")
            #expect(values[3] == "2026-12-01T00:00:00.000Z")
            #expect(logs.records.map(\.message) == ["document cannot be read; ended as ERROR"])
            #expect(logs.records.first?.metadata["mail.id"] == "huge-number")
        }
    }

    @Test("unreadable row read as stand-in")
    func unreadableStandIn() async throws {
        try await Self.contract.withStore { store in
            let sqlite = try #require(store as? SQLiteStore)
            let collection = DocumentStoreContract.collection
            let stored = #"{"to": "a@example.org", "n": 1e400}"#
            try Self.insertRow(id: "huge-number", data: stored, delivery: #"{"state": "ERROR", "error": "unreadable"}"#, into: sqlite)
            _ = try await store.add(["to": "b@example.org"], to: collection, id: "fine")

            try Self.insertRow(
                id: "inner-delivery", data: #"{"n": 1e400, "delivery": {"state": "SUCCESS", "attempts": 3}}"#, into: sqlite)

            let document = try await store.get("huge-number", from: collection)
            let innerDelivery = try await store.get("inner-delivery", from: collection)
            let page = try await store.list(collection, ListQuery(state: nil, limit: 10))
            let change = await #expect(throws: DocumentStoreError.self) {
                try await store.update("huge-number", in: collection) { $0.data }
            }
            let replaced = try await store.set(["to": "c@example.org"], id: "huge-number", in: collection)

            #expect(document?.data == ["unreadableData": .string(stored), "delivery": ["state": "ERROR", "error": "unreadable"]])
            #expect(innerDelivery?.data["delivery"] == ["state": "SUCCESS", "attempts": 3])
            #expect(page.documents.map(\.id) == ["huge-number", "fine", "inner-delivery"])
            #expect(change?.kind == .unreadable)
            #expect(change?.message == "Document huge-number in \(collection) contains invalid JSON: Invalid JSON at byte 34: number out of range, so it cannot be changed. Correct it with SQL first.")
            #expect(replaced.data == ["to": "c@example.org"])
        }
    }

    @Test("row that is not an object ends in ERROR")
    func nonObjectRow() async throws {
        try await Self.contract.withStore { store in
            let sqlite = try #require(store as? SQLiteStore)
            let collection = DocumentStoreContract.collection
            try Self.insertRow(id: "text", data: #""a@example.org""#, into: sqlite)

            let first = try await store.claim(from: collection, readyStates: ["PENDING", "RETRY"], limit: 10, DocumentStoreContract.keepDelivery)
            let second = try await store.claim(from: collection, readyStates: ["PENDING", "RETRY"], limit: 10, DocumentStoreContract.keepDelivery)
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

            let first = try await store.claim(from: collection, readyStates: ["PENDING", "RETRY"], limit: 10, DocumentStoreContract.keepDelivery)
            let second = try await store.claim(from: collection, readyStates: ["PENDING", "RETRY"], limit: 10, DocumentStoreContract.keepDelivery)
            let values = try Self.rawValues(
                ["json_extract(delivery, '$.state')", "json_extract(delivery, '$.error')", "json_type(data, '$.unreadableData')"],
                ofRow: "array", in: sqlite)
            let (state, error, moved) = (values[0], values[1], values[2])

            #expect(first.isEmpty)
            #expect(second.isEmpty)
            #expect(state == "ERROR")
            #expect(error.hasPrefix("The document cannot be read: "))
            #expect(error == "The document cannot be read: Invalid JSON at byte 6: number out of range, so the data was moved to the field unreadableData. Correct it with SQL and set delivery.state to RETRY.")
            #expect(moved == "array")
        }
    }

    @Test("delivery update keeps data column")
    func deliveryColumn() async throws {
        try await Self.contract.withStore { store in
            let sqlite = try #require(store as? SQLiteStore)
            let collection = DocumentStoreContract.collection
            _ = try await store.add(["to": "a@example.org", "delivery": ["state": "PENDING", "attempts": 2]], to: collection, id: "one")
            let before = try Self.rawValues(["data", "json_extract(delivery, '$.attempts')"], ofRow: "one", in: sqlite)

            let claimed = try await store.claim(from: collection, readyStates: ["PENDING", "RETRY"], limit: 10) { _ in ["state": "PROCESSING", "attempts": 3] }
            let after = try Self.rawValues(["data", "delivery_state", "json_extract(delivery, '$.attempts')"], ofRow: "one", in: sqlite)
            let document = try #require(try await store.get("one", from: collection))

            #expect(claimed.map(\.id) == ["one"])
            #expect(before == [#"{"to":"a@example.org"}"#, "2"])
            #expect(after == [#"{"to":"a@example.org"}"#, "PROCESSING", "3"])
            #expect(document.data == ["to": "a@example.org", "delivery": ["state": "PROCESSING", "attempts": 3]])
        }
    }

    @Test("delivery written by SQL reaches column")
    func deliveryWrittenWithSQL() async throws {
        try await Self.contract.withStore { store in
            let sqlite = try #require(store as? SQLiteStore)
            let collection = DocumentStoreContract.collection
            try Self.insertRow(id: "sent", data: #"{"to": "a@example.org", "delivery": {"state": "SUCCESS"}}"#, into: sqlite)
            try Self.insertRow(id: "queued", data: #"{"to": "b@example.org", "delivery": {"state": "PENDING", "attempts": 1}}"#, into: sqlite)
            try Self.insertRow(id: "failed", data: #"{"to": "c@example.org", "delivery": {"state": "ERROR", "attempts": 2, "error": "550"}}"#, into: sqlite)
            let firstClaim = try await store.claim(from: collection, readyStates: ["PENDING", "RETRY"], limit: 10) { _ in ["state": "PROCESSING", "attempts": 2] }
            let queued = try Self.rawValues(["coalesce(json_type(data, '$.delivery'), 'none')", "delivery"], ofRow: "queued", in: sqlite)

            // The fix that an unreadable document's error names: set delivery.state to RETRY with SQL.
            try withRawDatabase(sqlite.path) { database in
                try execute("UPDATE documents SET data = json_set(data, '$.delivery.state', 'RETRY') WHERE id = 'failed'", on: database)
            }
            let retried = try Self.rawValues(["coalesce(json_type(data, '$.delivery'), 'none')", "delivery"], ofRow: "failed", in: sqlite)
            let secondClaim = try await store.claim(from: collection, readyStates: ["PENDING", "RETRY"], limit: 10, DocumentStoreContract.keepDelivery)
            let sent = try #require(try await store.get("sent", from: collection))

            #expect(firstClaim.map(\.id) == ["queued"])
            #expect(queued == ["none", #"{"attempts":2,"state":"PROCESSING"}"#])
            #expect(retried == ["none", #"{"state":"RETRY","attempts":2,"error":"550"}"#])
            #expect(secondClaim.map(\.id) == ["failed"])
            #expect(secondClaim.first?.data["delivery"] == ["state": "RETRY", "attempts": 2, "error": "550"])
            #expect(sent.data == ["to": "a@example.org", "delivery": ["state": "SUCCESS"]])
        }
    }

    @Test("malformed data beside delivery ends in ERROR")
    func malformedDataWithDeliveryColumn() async throws {
        try await Self.contract.withStore { store in
            let sqlite = try #require(store as? SQLiteStore)
            let collection = DocumentStoreContract.collection
            try Self.insertRow(id: "broken", data: #"{"to": "#, delivery: #"{"state": "PENDING"}"#, into: sqlite)
            _ = try await store.add(["to": "b@example.org"], to: collection, id: "fine")

            let claimed = try await store.claim(from: collection, readyStates: ["PENDING", "RETRY"], limit: 10, DocumentStoreContract.keepDelivery)
            let values = try Self.rawValues(["delivery_state", "json_extract(data, '$.unreadableData')"], ofRow: "broken", in: sqlite)

            #expect(claimed.map(\.id) == ["fine"])
            #expect(values == ["ERROR", #"{"to": "#])
        }
    }

    @Test("stale delivery in data is dropped")
    func staleDeliveryInData() async throws {
        try await Self.contract.withStore { store in
            let sqlite = try #require(store as? SQLiteStore)
            let collection = DocumentStoreContract.collection
            try Self.insertRow(
                id: "sent", data: #"{"to": "a@example.org", "delivery": {"state": "PENDING"}}"#,
                delivery: #"{"state": "SUCCESS", "attempts": 1}"#, into: sqlite)
            try Self.insertRow(
                id: "queued", data: #"{"to": "b@example.org", "delivery": {"state": "SUCCESS"}}"#,
                delivery: #"{"state": "PENDING"}"#, into: sqlite)

            try withRawDatabase(sqlite.path) { database in
                try execute("UPDATE documents SET data = json_set(data, '$.to', 'c@example.org') WHERE id = 'sent'", on: database)
            }
            let claimed = try await store.claim(from: collection, readyStates: ["PENDING", "RETRY"], limit: 10) { _ in ["state": "PROCESSING"] }
            let stale = "coalesce(json_type(data, '$.delivery'), 'none')"
            let sent = try Self.rawValues(["delivery_state", "json_extract(delivery, '$.attempts')", stale], ofRow: "sent", in: sqlite)
            let queued = try Self.rawValues(["delivery_state", stale], ofRow: "queued", in: sqlite)

            #expect(claimed.map(\.id) == ["queued"])
            #expect(sent == ["SUCCESS", "1", "none"])
            #expect(queued == ["PROCESSING", "none"])
        }
    }

    @Test("rows read differently leave ready index")
    func rowsReadDifferently() async throws {
        try await Self.contract.withStore { store in
            let sqlite = try #require(store as? SQLiteStore)
            let collection = DocumentStoreContract.collection
            // SQLite's JSON functions, which compute delivery_state, read escaped keys as other
            // keys, take the first of duplicate keys and stop at \u0000, so they file these rows
            // as ready.
            try Self.insertRow(id: "escaped-key", data: #"{"to": "a@example.org", "deliv\u0065ry": {"state": "SUCCESS"}}"#, into: sqlite)
            try Self.insertRow(
                id: "duplicate-key", data: #"{"to": "a@example.org", "delivery": {"state": "PENDING"}, "delivery": {"state": "SUCCESS"}}"#,
                into: sqlite)
            try Self.insertRow(id: "escaped-state", data: #"{"to": "a@example.org"}"#, delivery: #"{"st\u0061te": "SUCCESS"}"#, into: sqlite)
            try Self.insertRow(
                id: "duplicate-state", data: #"{"to": "a@example.org"}"#, delivery: #"{"state": "PENDING", "state": "SUCCESS"}"#, into: sqlite)
            try Self.insertRow(id: "nul-state", data: #"{"to": "a@example.org"}"#, delivery: #"{"state": "PENDING\u0000", "attempts": 2}"#, into: sqlite)
            _ = try await store.add(["to": "b@example.org"], to: collection, id: "new")
            let claimReady: @Sendable (JSONValue?) -> JSONValue? = { delivery in
                guard let state = delivery?[path: "state"]?.stringValue, state != "PENDING" else { return ["state": "PROCESSING"] }
                return nil
            }

            let first = try await store.claim(from: collection, readyStates: ["PENDING", "RETRY"], limit: 5, claimReady)
            let second = try await store.claim(from: collection, readyStates: ["PENDING", "RETRY"], limit: 5, claimReady)
            let states = try ["escaped-key", "duplicate-key", "escaped-state", "duplicate-state"].map { id in
                try Self.rawValues(["delivery_state"], ofRow: id, in: sqlite)[0]
            }
            let nul = try Self.rawValues(["delivery_state", "json_extract(delivery, '$.error')", "json_extract(delivery, '$.attempts')"], ofRow: "nul-state", in: sqlite)

            #expect(first.isEmpty)
            #expect(second.map(\.id) == ["new"])
            #expect(states == ["SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS"])
            #expect(nul[0] == "ERROR")
            #expect(nul[1] == #"The document cannot be read: its delivery.state "PENDING\u0000" reads as "PENDING" in SQLite's JSON functions. Correct it with SQL and set delivery.state to RETRY."#)
            #expect(nul[2] == "2")
        }
    }

    @Test("delivery key search", arguments: [
        (#"{"to": "a@example.org", "text": "line\n"}"#, false),
        (#"{"to": "a@example.org", "delivery": {"state": "PENDING"}}"#, true),
        (#"{"template": {"data": {"delivery": "tomorrow"}}}"#, true),
        (#"{"deliv\u0065ry": {"state": "PENDING"}}"#, true),
        (#"{"text": "a backslash \\", "subject": "delivery soon"}"#, false),
        (#"{"subject": "delivery"}"#, true),
        (#"{"text": "ends in a backslash \\"}"#, false),
        ("", false),
    ])
    func deliveryKeySearch(json: String, mayHaveKey: Bool) {
        #expect(SQLiteStore.mayHaveDeliveryKey(Array(json.utf8)) == mayHaveKey)
    }

    @Test("SQL insert of malformed JSON rejected")
    func malformedInsert() async throws {
        try await Self.contract.withStore { store in
            let sqlite = try #require(store as? SQLiteStore)

            let error = #expect(throws: RawSQLiteError.self) { try Self.insertRow(id: "broken", data: #"{"to": "#, into: sqlite) }
            #expect(error?.description.hasSuffix("malformed JSON") == true, "\(String(describing: error))")
            #expect(try await store.count(DocumentStoreContract.collection, state: nil) == 0)
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
    private static func insertRow(id: String, data: String, delivery: String? = nil, into store: SQLiteStore) throws {
        try withRawDatabase(store.path) { database in
            try execute(
                """
                INSERT INTO documents (collection, id, data, delivery, create_time, update_time) VALUES
                ('\(DocumentStoreContract.collection)', '\(id)', '\(data)', \(delivery.map { "'\($0)'" } ?? "NULL"),
                '2026-12-05T00:00:00.000Z', '2026-12-05T00:00:00.000Z')
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
