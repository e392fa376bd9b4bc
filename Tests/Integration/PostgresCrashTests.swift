import DocumentStore
import Foundation
import TestSupport
import Testing

@Suite("PostgreSQL crash")
struct PostgresCrashTests {
    static let documentCount = 5_000
    static let smtpPoolSize = 4
    /// The number of received messages after which one worker is killed.
    static let killAfterMessages = 1_500
    static let leaseExpiredMessage = "Message processing lease expired."
    /// The maximum time for each phase to settle. It is far above the few seconds a phase takes,
    /// so a loaded machine does not fail the test, but a stuck document does.
    static let settleTimeout: Duration = .seconds(120)

    /// The final state of one document, as read with SQL.
    struct DeliveryRow {
        var id: String
        var state: String?
        var error: String?
        var attempts: Double?
        var messageID: String?
    }

    /// One message that the SMTP test server accepted.
    struct ReceivedMessage {
        var messageID: String
        var subject: String
    }

    @Test("Worker killed mid-run loses no mail")
    func workerKilledMidRun() async throws {
        let smtp = try await SMTPTestServer.start()
        defer { smtp.stop() }
        // The worker to kill sends to a server of its own, which stops replying to message data
        // on the test's request. The worker then has claimed documents in flight when it dies.
        let doomedSMTP = try await SMTPTestServer.start(.init(holdsData: true))
        defer { doomedSMTP.stop() }
        try doomedSMTP.releaseData()
        let postgres = try await PostgresServer.shared()
        let databaseURL = try await postgres.createDatabase()

        var workers: [ChildProcess] = []
        var failure: (any Error)?
        do {
            let program = try ProgramRunner(environment: [
                "DATABASE_URL": databaseURL,
                "SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(smtp.port)",
                "SMTP_POOL_SIZE": String(Self.smtpPoolSize),
                "LEASE_SECONDS": "3",
                "DEFAULT_FROM": "shop@example.com",
            ])
            workers.append(try program.start(["worker"], environment: ["SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(doomedSMTP.port)"]))
            for _ in 0..<2 {
                workers.append(try program.start(["worker"]))
            }
            try await runCrash(
                postgres: postgres, databaseURL: databaseURL, servers: (smtp, doomedSMTP), program: program, workers: workers)
        } catch {
            failure = error
        }

        // Runs after a failure too, so that no worker outlives the test.
        for worker in workers {
            worker.terminate()
        }
        for worker in workers {
            _ = try? await worker.waitForExit(timeout: .seconds(30))
            worker.kill()
        }
        do {
            try await postgres.dropDatabase(url: databaseURL)
        } catch {
            failure = failure ?? error
        }
        if let failure { throw failure }
    }

    private func runCrash(
        postgres: PostgresServer, databaseURL: String, servers: (shared: SMTPTestServer, doomed: SMTPTestServer), program: ProgramRunner,
        workers: [ChildProcess]
    ) async throws {
        let smtpServers = [servers.shared, servers.doomed]
        // Each worker creates the schema or waits for the one that does, before it starts.
        for worker in workers {
            try await worker.waitForErrorOutput(timeout: TestEnvironment.patience) { $0.contains("processor started") }
        }
        _ = try await postgres.psql(
            databaseURL,
            """
            INSERT INTO trigger_email.documents (collection, id, data)
            SELECT 'mail', 'crash-' || n, jsonb_build_object(
                'to', 'recipient-' || n || '@example.org',
                'message', jsonb_build_object('subject', 'Crash test ' || n, 'text', 'Message number ' || n))
            FROM generate_series(1, \(Self.documentCount)) AS n
            """)

        // Phase 1: one of three workers dies with SIGKILL in the middle of the run.
        let doomed = workers[0]
        let survivors = workers.dropFirst()
        try await waitForSpoolCount(smtpServers, atLeast: Self.killAfterMessages)
        let doomedHasDelivered = try spoolCount([servers.doomed]) > 0
        #expect(doomedHasDelivered, "the worker to kill has delivered nothing yet")
        // Message data that reaches the doomed worker's server after the hold began gets no
        // reply, so that worker has at least the document of that message claimed.
        try servers.doomed.holdData()
        let receivedBeforeHold = servers.doomed.dataReceivedCount
        try await waitUntil("the doomed worker sends message data to its held server") {
            servers.doomed.dataReceivedCount > receivedBeforeHold
        }
        doomed.kill()
        #expect(try await doomed.waitForExit() == SIGKILL)

        try await waitUntilSettled(postgres: postgres, databaseURL: databaseURL)
        let afterCrash = try await deliveryRows(postgres: postgres, databaseURL: databaseURL)
        let receivedAfterCrash = try receivedMessages(smtpServers)

        #expect(afterCrash.count == Self.documentCount)
        let succeeded = afterCrash.filter { $0.state == "SUCCESS" }
        let failed = afterCrash.filter { $0.state == "ERROR" }
        #expect(succeeded.count + failed.count == Self.documentCount, "states other than SUCCESS and ERROR: \(Set(afterCrash.map { $0.state ?? "none" }))")
        for row in failed {
            #expect(row.error == Self.leaseExpiredMessage, "\(row.id) failed with \(row.error ?? "no error")")
        }
        // The killed worker held claimed documents, so some attempts must have ended by lease expiry.
        #expect(!failed.isEmpty)
        for row in afterCrash {
            #expect(row.attempts == 1, "\(row.id) has \(row.attempts.map { "\($0)" } ?? "no") attempts after one claim")
        }

        expectUniqueMessageIDs(receivedAfterCrash)
        expectEverySuccessReceived(succeeded, receivedAfterCrash)
        let receivedBySubject = Dictionary(grouping: receivedAfterCrash, by: \.subject)
        let rowsBySubject = Dictionary(uniqueKeysWithValues: afterCrash.map { (Self.subject(of: $0.id), $0) })
        for (subject, messages) in receivedBySubject {
            let row = try #require(rowsBySubject[subject], "a received message has the unknown subject \(subject)")
            #expect(messages.count == 1, "\(row.id) reached the SMTP server \(messages.count) times in one attempt")
        }
        // A message whose document ended in ERROR was sent by the killed worker before it
        // recorded SUCCESS, so there are at most as many as the documents that worker held:
        // those that ended by lease expiry. Their number is not bounded by the in-flight limit,
        // because a worker frees a slot once the message is sent, before its outcome is written.
        let sentButUnrecorded = receivedAfterCrash.count - succeeded.count
        #expect(sentButUnrecorded >= 0)
        #expect(sentButUnrecorded <= failed.count)

        // Phase 2: the documents that ended by lease expiry are sent again.
        let failedIDs = failed.map(\.id)
        let retried = try await program.run(["retry"] + failedIDs)
        #expect(retried.status == 0, "retry failed: \(retried.errors)")
        #expect(retried.lines == failedIDs.map { "\($0)\tRETRY" })

        try await waitUntilSettled(postgres: postgres, databaseURL: databaseURL)
        let final = try await deliveryRows(postgres: postgres, databaseURL: databaseURL)
        let receivedAtEnd = try receivedMessages(smtpServers)

        #expect(final.count == Self.documentCount)
        #expect(final.allSatisfy { $0.state == "SUCCESS" }, "states after the retry: \(Set(final.map { $0.state ?? "none" }))")
        let retriedIDs = Set(failedIDs)
        for row in final {
            let expectedAttempts: Double = retriedIDs.contains(row.id) ? 2 : 1
            #expect(row.attempts == expectedAttempts, "\(row.id) has \(row.attempts.map { "\($0)" } ?? "no") attempts")
        }
        #expect(receivedAtEnd.count == receivedAfterCrash.count + failed.count)
        expectUniqueMessageIDs(receivedAtEnd)
        expectEverySuccessReceived(final, receivedAtEnd)

        // The survivors stop cleanly and logged no error during the crash or the retry.
        for worker in survivors {
            worker.terminate()
            #expect(try await worker.waitForExit() == 0)
        }
        for worker in workers {
            let errors = Self.errorLines(worker.standardError)
            #expect(errors.isEmpty, "a worker logged errors:\n\(errors.joined(separator: "\n"))")
        }
    }

    // MARK: - Checks

    private func expectUniqueMessageIDs(_ messages: [ReceivedMessage]) {
        let counts = Dictionary(grouping: messages, by: \.messageID).mapValues(\.count)
        let repeated = counts.filter { $0.value > 1 }
        #expect(repeated.isEmpty, "Message-IDs received more than once: \(repeated)")
        #expect(!counts.keys.contains(""), "a received message has no Message-ID")
    }

    /// Checks that the SMTP server received each `SUCCESS` row's Message-ID on that row's own message.
    private func expectEverySuccessReceived(_ rows: [DeliveryRow], _ messages: [ReceivedMessage]) {
        let subjectByMessageID = Dictionary(messages.map { ($0.messageID, $0.subject) }) { first, _ in first }
        for row in rows where row.state == "SUCCESS" {
            guard let messageID = row.messageID else {
                Issue.record("\(row.id) is SUCCESS without delivery.info.messageId")
                continue
            }
            #expect(subjectByMessageID[messageID] == Self.subject(of: row.id), "\(row.id) has the Message-ID \(messageID), which the SMTP server received as \(subjectByMessageID[messageID] ?? "nothing")")
        }
    }

    // MARK: - Reading state

    private static func subject(of id: String) -> String {
        "Crash test " + id.dropFirst("crash-".count)
    }

    /// Returns the log lines at level error from a worker's error output.
    private static func errorLines(_ log: String) -> [String] {
        log.split(separator: "\n").map(String.init).filter { line in
            line.split(separator: " ", maxSplits: 2).dropFirst().first == "error"
        }
    }

    private func spoolCount(_ servers: [SMTPTestServer]) throws -> Int {
        try servers.reduce(0) { total, server in
            total + (try FileManager.default.contentsOfDirectory(atPath: server.spool.path).filter { $0.hasSuffix(".json") }.count)
        }
    }

    private func waitForSpoolCount(_ servers: [SMTPTestServer], atLeast count: Int) async throws {
        let deadline = ContinuousClock.now.advanced(by: Self.settleTimeout)
        while try spoolCount(servers) < count {
            guard ContinuousClock.now < deadline else {
                throw TestEnvironmentError("timed out after \(Self.settleTimeout): the SMTP test servers received \(try spoolCount(servers)) messages, expected at least \(count)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: Self.settleTimeout)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                throw TestEnvironmentError("timed out after \(Self.settleTimeout) waiting until \(what)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits until no document is new, PENDING, RETRY or PROCESSING.
    private func waitUntilSettled(postgres: PostgresServer, databaseURL: String) async throws {
        let deadline = ContinuousClock.now.advanced(by: Self.settleTimeout)
        while true {
            let open = try await postgres.psql(
                databaseURL,
                """
                SELECT count(*) FROM trigger_email.documents
                WHERE collection = 'mail' AND (delivery_state IS NULL OR delivery_state NOT IN ('SUCCESS', 'ERROR'))
                """
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            if open == "0" { return }
            guard ContinuousClock.now < deadline else {
                throw TestEnvironmentError("timed out after \(Self.settleTimeout): \(open) documents are still new, PENDING, RETRY or PROCESSING")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    private func deliveryRows(postgres: PostgresServer, databaseURL: String) async throws -> [DeliveryRow] {
        let output = try await postgres.psql(
            databaseURL,
            """
            SELECT json_build_object('id', id, 'delivery', data -> 'delivery')
            FROM trigger_email.documents WHERE collection = 'mail' ORDER BY sequence
            """)
        return try output.split(separator: "\n").map { line in
            let row = try JSONValue(parsing: String(line))
            return DeliveryRow(
                id: row[path: "id"]?.stringValue ?? "",
                state: row[path: "delivery.state"]?.stringValue,
                error: row[path: "delivery.error"]?.stringValue,
                attempts: row[path: "delivery.attempts"]?.numberValue,
                messageID: row[path: "delivery.info.messageId"]?.stringValue)
        }
    }

    private func receivedMessages(_ servers: [SMTPTestServer]) throws -> [ReceivedMessage] {
        try servers.flatMap { try $0.receivedMessages() }.map { record in
            ReceivedMessage(
                messageID: record[path: "parsed.message_id"]?.stringValue ?? "",
                subject: record[path: "parsed.subject"]?.stringValue ?? "")
        }
    }
}
