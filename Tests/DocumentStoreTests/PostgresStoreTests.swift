import DocumentStore
import Foundation
import Logging
@testable import PostgresStore
import TestSupport
import Testing

/// What only PostgreSQL does; the shared behavior is in `DocumentStoreContractTests`.
@Suite("PostgresStore")
struct PostgresStoreTests {
    @Test("plain SQL INSERT enqueues a document")
    func plainInsert() async throws {
        try await withDatabase { server, url in
            let store = try await PostgresStore.open(url: url)
            let seen = store.changeCount

            _ = try await server.psql(url, """
                INSERT INTO trigger_email.documents (collection, data)
                VALUES ('mail', '{"to": "ana@example.org", "message": {"subject": "Hi", "text": "Hello"}}');
                """)
            await store.waitForChange(after: seen, timeout: TestEnvironment.patience)

            let page = try await store.list("mail", ListQuery())
            let document = try #require(page.documents.first)
            #expect(store.changeCount != seen)
            #expect(page.documents.count == 1)
            #expect(document.id.count == DocumentID.length)
            #expect(throws: Never.self) { try DocumentID.validate(document.id) }
            #expect(document.data == ["to": "ana@example.org", "message": ["subject": "Hi", "text": "Hello"]])
            #expect(document.createTime == document.updateTime)
            await store.close()
        }
    }

    @Test("plain SQL INSERT with a bad ID fails")
    func plainInsertBadID() async throws {
        try await withDatabase { server, url in
            let store = try await PostgresStore.open(url: url)
            await store.close()

            await #expect(throws: TestEnvironmentError.self) {
                try await server.psql(url, "INSERT INTO trigger_email.documents (collection, id, data) VALUES ('mail', '../x', '{}');")
            }
        }
    }

    @Test("addBatch over several statements")
    func largeBatch() async throws {
        try await withDatabase { _, url in
            let store = try await PostgresStore.open(url: url)
            let batch: [JSONObject] = (0..<2_500).map { ["n": .number(Double($0))] }

            let added = try await store.addBatch(batch, to: "mail")
            let page = try await store.list("mail", ListQuery(limit: 1000, pageToken: "1000"))

            #expect(added.map(\.data) == batch)
            #expect(Set(added.map(\.id)).count == 2_500)
            #expect(try await store.count("mail", state: nil) == 2_500)
            #expect(page.documents.first?.data == ["n": 1000])
            #expect(page.documents.first?.id == added[1000].id)
            await store.close()
        }
    }

    @Test("unreadable row ends in ERROR")
    func unreadableRow() async throws {
        try await withDatabase { server, url in
            let store = try await PostgresStore.open(url: url)
            _ = try await server.psql(url, """
                INSERT INTO trigger_email.documents (collection, id, data) VALUES
                ('mail', 'huge-number', '{"to": "a@example.org", "n": 1e400}'),
                ('mail', 'fine', '{"to": "b@example.org"}');
                """)

            let claimed = try await store.claim(from: "mail", readyStates: ["PENDING", "RETRY"], limit: 10, DocumentStoreContract.keepDelivery)
            let state = try await server.psql(url, "SELECT data->'delivery'->>'state', data->>'n' FROM trigger_email.documents WHERE id = 'huge-number';")
            let error = try await server.psql(url, "SELECT data->'delivery'->>'error' FROM trigger_email.documents WHERE id = 'huge-number';")
            // Reads show the row with its delivery and its stored JSON; changes are refused.
            let document = try await store.get("huge-number", from: "mail")
            let page = try await store.list("mail", ListQuery(state: nil, limit: 10))
            let change = await #expect(throws: DocumentStoreError.self) {
                try await store.update("huge-number", in: "mail") { $0.data }
            }

            #expect(claimed.map(\.id) == ["fine"])
            #expect(state.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("ERROR|1"))
            #expect(error.hasPrefix("The document cannot be read: "))
            #expect(error.contains("Correct it with SQL and set delivery.state to RETRY."))
            #expect(document?.data["delivery"]?[path: "state"] == "ERROR")
            #expect(document?.data["unreadableData"]?.stringValue?.contains(#""to": "a@example.org""#) == true)
            #expect(page.documents.map(\.id) == ["huge-number", "fine"])
            #expect(change?.kind == .unreadable)
            await store.close()
        }
    }

    @Test("unreadable expired claim ends in ERROR")
    func unreadableExpiredLease() async throws {
        try await withDatabase { server, url in
            let logs = InMemoryLogHandler()
            let store = try await PostgresStore.open(url: url, logger: Logger(label: "store", level: .info, handler: logs))
            let claimed = #"{"state": "PROCESSING", "leaseExpireTime": "2026-12-05T00:00:30.000Z", "attempts": 3, "startTime": "2026-12-01T00:00:00.000Z"}"#
            _ = try await server.psql(url, """
                INSERT INTO trigger_email.documents (collection, id, data) VALUES
                ('mail', 'huge-number', '{"to": "a@example.org", "n": 1e400, "delivery": \(claimed)}'),
                ('mail', 'expired', '{"to": "b@example.org", "delivery": \(claimed)}');
                """)

            let expired = try await store.expiredLeases(in: "mail", at: Timestamp(rfc3339: "2026-12-05T00:01:00.000Z")!, limit: 10)
            let delivery = try await server.psql(
                url, "SELECT concat_ws('|', data#>>'{delivery,state}', data#>>'{delivery,attempts}', data#>>'{delivery,startTime}') FROM trigger_email.documents WHERE id = 'huge-number';")

            #expect(expired.map(\.id) == ["expired"])
            #expect(delivery.trimmingCharacters(in: .whitespacesAndNewlines) == "ERROR|3|2026-12-01T00:00:00.000Z")
            #expect(logs.records.map(\.message) == ["document cannot be read; ended as ERROR"])
            await store.close()
        }
    }

    @Test("schema 1 database is migrated")
    func migrationFromFirstSchema() async throws {
        try await withDatabase { server, url in
            _ = try await server.psql(url, """
                CREATE SCHEMA trigger_email;
                \(PostgresSchema.migrations[0])
                CREATE TABLE trigger_email.schema_version (version integer NOT NULL);
                INSERT INTO trigger_email.schema_version VALUES (1);
                INSERT INTO trigger_email.documents (collection, id, data) VALUES ('mail', 'old', '{"to": "a@example.org"}');
                """)

            let store = try await PostgresStore.open(url: url)
            let old = try await store.get("old", from: "mail")
            let added = try await store.add(["to": "b@example.org"], to: "mail", id: nil)
            let version = try await server.psql(url, "SELECT version FROM trigger_email.schema_version;")

            #expect(old?.data == ["to": "a@example.org"])
            #expect(added.createTime == added.updateTime)
            #expect(version.trimmingCharacters(in: .whitespacesAndNewlines) == String(PostgresSchema.version))
            await store.close()
        }
    }

    @Test("stores opened together migrate once")
    func concurrentMigration() async throws {
        try await withDatabase { server, url in
            let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await PostgresStore.open(url: url) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let versions = try await server.psql(url, "SELECT version FROM trigger_email.schema_version;")

            #expect(stores.count == 4)
            #expect(versions.trimmingCharacters(in: .whitespacesAndNewlines) == String(PostgresSchema.version))
            for store in stores { await store.close() }
        }
    }

    @Test("terminated connections are replaced")
    func terminatedConnections() async throws {
        try await withDatabase { server, url in
            let store = try await PostgresStore.open(url: url)
            let writer = try await PostgresStore.open(url: url)
            _ = try await store.add(["n": 1], to: "mail", id: "before")

            _ = try await server.psql(url, """
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid();
                """)
            let reread = try await store.get("before", from: "mail")
            let rewritten = try await store.merge(["n": 2], id: "before", in: "mail")

            // The listener reconnects with backoff and wakes its waiters when it does. After
            // that, a write by another instance must wake them again.
            try await waitUntil(timeout: TestEnvironment.patience) {
                try await server.psql(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%';")
                    .trimmingCharacters(in: .whitespacesAndNewlines) == "2"
            }
            let seen = store.changeCount
            async let waited: Void = store.waitForChange(after: seen, timeout: TestEnvironment.patience)
            _ = try await writer.add(["n": 3], to: "mail", id: "after")
            await waited

            #expect(reread?.data == ["n": 1])
            #expect(rewritten.data == ["n": 2])
            #expect(store.changeCount != seen)
            #expect(try await store.get("after", from: "mail")?.data == ["n": 3])
            await store.close()
            await writer.close()
        }
    }

    @Test("U+0000 in a string is rejected")
    func nullCharacter() async throws {
        try await withDatabase { _, url in
            let store = try await PostgresStore.open(url: url)

            let error = await #expect(throws: DocumentStoreError.self) {
                try await store.add(["text": "a\u{0}b"], to: "mail", id: "nul")
            }
            #expect(error?.kind == .invalidArgument)
            #expect(error?.message.contains("jsonb has no room for the character U+0000; remove it from the document.") == true)
            #expect(try await store.count("mail", state: nil) == 0)
            await store.close()
        }
    }

    @Test("connection errors hide the password")
    func passwordHidden() async throws {
        // Nothing listens on port 1 of the loopback address, so the connection is refused.
        let url = "postgres://mailer:topsecret@127.0.0.1:1/mail"

        let error = await #expect(throws: DocumentStoreError.self) { try await PostgresStore.open(url: url) }
        #expect(error?.kind == .storage)
        #expect(error?.message.hasPrefix("Cannot connect to PostgreSQL at postgres://mailer:***@127.0.0.1:1/mail: ") == true)
        #expect(error?.message.contains("topsecret") == false)
    }

    // MARK: - Helpers

    private func withDatabase(_ body: (PostgresServer, String) async throws -> Void) async throws {
        let server = try await PostgresServer.shared()
        let url = try await server.createDatabase()
        do {
            try await body(server, url)
        } catch {
            try? await server.dropDatabase(url: url)
            throw error
        }
        try await server.dropDatabase(url: url)
    }

    private func waitUntil(timeout: Duration, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw TestEnvironmentError("the condition did not hold within \(timeout)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
