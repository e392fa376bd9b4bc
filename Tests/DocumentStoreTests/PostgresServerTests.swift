import Foundation
import TestSupport
import Testing

/// The private PostgreSQL server that the PostgreSQL store tests run against.
@Suite("PostgresServer")
struct PostgresServerTests {
    static let countTables = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"

    @Test("shared returns one server")
    func sharedReturnsOneServer() async throws {
        async let first = PostgresServer.shared()
        async let second = PostgresServer.shared()
        let (firstServer, secondServer) = try await (first, second)
        #expect(firstServer === secondServer)
        #expect(firstServer.port > 0)
    }

    @Test("databases are empty and separate")
    func databasesAreEmptyAndSeparate() async throws {
        let server = try await PostgresServer.shared()
        async let firstURL = server.createDatabase()
        async let secondURL = server.createDatabase()
        let (first, second) = try await (firstURL, secondURL)

        #expect(first != second)
        #expect(first.hasPrefix("postgres://\(server.user)@127.0.0.1:\(server.port)/"))
        #expect(second.hasPrefix("postgres://\(server.user)@127.0.0.1:\(server.port)/"))
        #expect(try await server.psql(first, Self.countTables) == "0\n")
        #expect(try await server.psql(second, Self.countTables) == "0\n")

        _ = try await server.psql(first, "CREATE TABLE marker (id integer); INSERT INTO marker VALUES (1)")
        #expect(try await server.psql(first, "SELECT id FROM marker") == "1\n")
        #expect(try await server.psql(second, Self.countTables) == "0\n")
        let secondError = await #expect(throws: TestEnvironmentError.self) {
            try await server.psql(second, "SELECT id FROM marker")
        }
        #expect(secondError?.description.contains("relation \"marker\" does not exist") == true)

        let firstName = try #require(first.split(separator: "/").last)
        try await server.dropDatabase(url: first)
        let names = try await server.psql(second, "SELECT datname FROM pg_database")
        #expect(!names.split(separator: "\n").contains(firstName))
        await #expect(throws: TestEnvironmentError.self) {
            try await server.psql(first, "SELECT 1")
        }
        #expect(try await server.psql(second, "SELECT 1") == "1\n")
        try await server.dropDatabase(url: second)
    }

    @Test("drop closes open connections")
    func dropClosesOpenConnections() async throws {
        let server = try await PostgresServer.shared()
        let url = try await server.createDatabase()

        // A session that stays connected for ten minutes unless the drop terminates it.
        let sleeping = Task { try await server.psql(url, "SELECT pg_sleep(600)") }
        let waitsForSession = "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)'"
        let deadline = ContinuousClock.now.advanced(by: TestEnvironment.patience)
        while try await server.psql(server.administrationURL, waitsForSession) != "1\n", ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }

        let start = ContinuousClock.now
        try await server.dropDatabase(url: url)
        let result = await sleeping.result
        guard case .failure(let error) = result else {
            Issue.record("the session outlived the drop")
            return
        }
        // psql's own exit, not the test's psql timeout, shows that the drop ended the session.
        #expect("\(error)".contains("psql failed with status"), "\(error)")
        #expect(ContinuousClock.now - start < .seconds(300))
    }

    @Test("concurrent createDatabase calls")
    func concurrentCreateDatabase() async throws {
        let server = try await PostgresServer.shared()
        let urls = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask { try await server.createDatabase() }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(Set(urls).count == 8)

        for url in urls {
            #expect(try await server.psql(url, "SELECT current_database()") == "\(url.split(separator: "/").last ?? "")\n")
        }
        for url in urls {
            try await server.dropDatabase(url: url)
        }
    }

    @Test("dropDatabase rejects other URLs")
    func dropRejectsOtherURLs() async throws {
        let server = try await PostgresServer.shared()
        for url in [
            server.administrationURL,
            "postgres://\(server.user)@127.0.0.1:\(server.port)/template1",
            "postgres://\(server.user)@127.0.0.1:\(server.port + 1)/test_0123456789abcdef0123456789abcdef",
            "postgres://\(server.user)@127.0.0.1:\(server.port)/test_x; DROP DATABASE postgres",
        ] {
            await #expect(throws: TestEnvironmentError.self, "URL \(url)") {
                try await server.dropDatabase(url: url)
            }
        }
        #expect(try await server.psql(server.administrationURL, "SELECT 1") == "1\n")
    }
}
