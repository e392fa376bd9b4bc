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
        let claimed = try await store.claim(from: "mail", readyStates: ["PENDING", "RETRY"], limit: 10, DocumentStoreContract.keepDelivery)
        await store.close()
        #expect(claimed.map(\.id) == ["waiting", "new"])

        try withRawDatabase(path) { database in
            #expect(try firstColumn("PRAGMA user_version", on: database) == "\(SQLiteSchema.version)")
            let claimQuery = SQLiteStore.claimQuery(stateList: "'PENDING', 'RETRY'", usesReadyIndex: true)
            let plan = try firstColumn(
                "EXPLAIN QUERY PLAN \(claimQuery.replacingOccurrences(of: "?", with: "'mail'", options: [], range: nil))",
                on: database, column: 3)
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

    /// Returns the file's `PRAGMA user_version`, the schema version it was last written with.
    private static func userVersion(of path: String) throws -> String {
        var version = ""
        try withRawDatabase(path) { database in version = try firstColumn("PRAGMA user_version", on: database) }
        return version
    }

    /// Writes a file as version 3 left it, with `rows` as the SQL values of its documents
    /// (collection, id, data, create_time, update_time), and returns its path.
    private static func makeVersionThreeFile(in directory: URL, rows: [String]) throws -> String {
        let path = directory.appendingPathComponent("old.db").path
        try withRawDatabase(path) { database in
            for migration in SQLiteSchema.migrations[0..<3] { try execute(migration, on: database) }
            try execute("PRAGMA user_version = 3", on: database)
            if !rows.isEmpty {
                try execute(
                    "INSERT INTO documents (collection, id, data, create_time, update_time) VALUES \(rows.joined(separator: ", "))", on: database)
            }
        }
        return path
    }

    @Test("open version 3 file stays unconverted")
    func versionThreeOpenElsewhere() async throws {
        let directory = try TestEnvironment.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Self.makeVersionThreeFile(in: directory, rows: [])
        // A stand-in for an older worker: a process that keeps the file open.
        let holder = try ChildProcess(
            executable: try TestEnvironment.python(),
            arguments: ["-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT 1 FROM documents'); print('open', flush=True); sys.stdin.read()", path])
        defer { holder.kill() }
        _ = try await holder.firstOutputLine(timeout: TestEnvironment.patience)

        let error = await #expect(throws: DocumentStoreError.self) { try await SQLiteStore.open(path: path) }
        holder.closeInput()
        try await holder.waitForExit()
        let store = try await SQLiteStore.open(path: path)
        await store.close()

        #expect(error?.message.contains("needs converting from schema 3 to \(SQLiteSchema.version)") == true, "\(String(describing: error))")
        #expect(error?.message.contains("process \(holder.process.processIdentifier) (python") == true, "\(String(describing: error))")
        #expect(try Self.userVersion(of: path) == "\(SQLiteSchema.version)")
    }

    @Test("failed conversion names schema, keeps file")
    func failedConversion() async throws {
        let directory = try TestEnvironment.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Self.makeVersionThreeFile(in: directory, rows: [])
        // A table that another program made under the name the conversion needs.
        try withRawDatabase(path) { database in try execute("CREATE TABLE documents_version_3 (n)", on: database) }

        let error = await #expect(throws: DocumentStoreError.self) { try await SQLiteStore.open(path: path) }

        #expect(
            error?.message
                == "Cannot open the SQLite database \(path): SQLite failed to convert the database to schema 4: there is already another table or index with this name: documents_version_3 (code 1).")
        #expect(try Self.userVersion(of: path) == "3")
    }

    @Test("shm lock reveals another process")
    func sharedMemoryLockFound() async throws {
        let directory = try TestEnvironment.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("wal.db").path
        let holder = try ChildProcess(
            executable: try TestEnvironment.python(),
            arguments: [
                "-c",
                "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA journal_mode = WAL'); c.execute('CREATE TABLE t (n)'); c.execute('SELECT * FROM t').fetchall(); print('open', flush=True); sys.stdin.read()",
                path,
            ])
        defer { holder.kill() }
        _ = try await holder.firstOutputLine(timeout: TestEnvironment.patience)

        let whileOpen = OtherProcessesWithFile.processLockingSharedMemory(of: path)
        holder.closeInput()
        try await holder.waitForExit()
        let afterExit = OtherProcessesWithFile.processLockingSharedMemory(of: path)

        #expect(whileOpen == holder.process.processIdentifier)
        #expect(afterExit == nil)
    }

    @Test("version 3 delivery moves to column")
    func versionThreeMovesDelivery() async throws {
        let directory = try TestEnvironment.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try Self.makeVersionThreeFile(
            in: directory,
            rows: [
                #"('mail', 'sent', '{"delivery":{"state":"SUCCESS","attempts":1},"to":"a@example.org"}', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z')"#,
                #"('mail', 'waiting', '{"to":"b@example.org","delivery":{"state":"RETRY"}}', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')"#,
                #"('mail', 'odd', '{"to":"c@example.org","delivery":"not an object"}', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')"#,
                #"('mail', 'text', '"just a string"', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')"#,
            ])

        let store = try await SQLiteStore.open(path: path)
        let sent = try await store.get("sent", from: "mail")
        let odd = try await store.get("odd", from: "mail")
        let claimed = try await store.claim(from: "mail", readyStates: ["PENDING", "RETRY"], limit: 10, DocumentStoreContract.keepDelivery)
        await store.close()

        #expect(sent?.data == ["to": "a@example.org", "delivery": ["state": "SUCCESS", "attempts": 1]])
        #expect(sent?.updateTime.description == "2026-01-01T00:00:01.000Z")
        #expect(odd?.data == ["to": "c@example.org", "delivery": "not an object"])
        #expect(claimed.map(\.id) == ["waiting", "odd"])
        try withRawDatabase(path) { database throws in
            #expect(try firstColumn("PRAGMA user_version", on: database) == "\(SQLiteSchema.version)")
            #expect(try firstColumn("SELECT data FROM documents WHERE id = 'sent'", on: database) == #"{"to":"a@example.org"}"#)
            #expect(try firstColumn("SELECT delivery FROM documents WHERE id = 'sent'", on: database) == #"{"state":"SUCCESS","attempts":1}"#)
            // The claim found the string unreadable and moved it into an object.
            #expect(try firstColumn("SELECT data || ' ' || delivery_state FROM documents WHERE id = 'text'", on: database)
                == #"{"unreadableData":"just a string"} ERROR"#)
            #expect(try firstColumn("SELECT count(*) FROM sqlite_master WHERE name = 'documents_version_3'", on: database) == "0")
        }
    }
}
