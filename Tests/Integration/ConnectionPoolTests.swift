import Foundation
import Logging
import SMTP
import TestSupport
import Testing

@Suite("Connection pool")
struct ConnectionPoolTests {
    static let message = Array("From: shop@example.com\r\nTo: a@example.org\r\nSubject: pool\r\n\r\nHello\r\n".utf8)

    private func client(_ server: SMTPTestServer, connections: Int, messagesPerConnection: Int) throws -> SMTPClient {
        try SMTPClient(
            configuration: SMTPServerConfiguration(host: "127.0.0.1", port: server.port, security: .startTLSWhenOffered),
            maxConnections: connections, maxMessagesPerConnection: messagesPerConnection,
            // Longer than any pause a loaded machine puts between two sends, so only the cases
            // under test close a pooled connection.
            idleTimeout: .seconds(600), logger: Logger(label: "test", handler: SilentLogHandler()))
    }

    private func sessionCount(_ server: SMTPTestServer) -> Int {
        server.log.components(separatedBy: "\n").filter { $0.contains(" EHLO ") }.count
    }

    @Test("1,000 messages use no more connections than the pool size")
    func thousandMessagesOverPool() async throws {
        let server = try await SMTPTestServer.start()
        let client = try client(server, connections: 4, messagesPerConnection: 10_000)

        try await withThrowingTaskGroup(of: SMTPDeliveryReport.self) { group in
            for index in 0..<1_000 {
                group.addTask {
                    try await client.send(SMTPEnvelope(sender: "shop@example.com", recipients: ["user\(index)@example.org"], message: Self.message))
                }
            }
            var delivered = 0
            for try await report in group {
                #expect(report.accepted.count == 1)
                delivered += 1
            }
            #expect(delivered == 1_000)
        }

        #expect(client.connectionsOpened <= 4)
        #expect(try await server.waitForMessages(1_000).count == 1_000)
        #expect(sessionCount(server) <= 4)
    }

    @Test("a connection closes after its message cap")
    func messageCap() async throws {
        let server = try await SMTPTestServer.start()
        let client = try client(server, connections: 1, messagesPerConnection: 3)

        for index in 0..<7 {
            _ = try await client.send(SMTPEnvelope(sender: "shop@example.com", recipients: ["u\(index)@example.org"], message: Self.message))
        }

        #expect(client.connectionsOpened == 3)
        #expect(try await server.waitForMessages(7).count == 7)
    }

    @Test("a rejected transaction leaves the connection usable")
    func rejectionKeepsConnection() async throws {
        let server = try await SMTPTestServer.start(.init(rejectRecipients: ["nobody"]))
        let client = try client(server, connections: 1, messagesPerConnection: 100)

        await #expect(throws: NoRecipientAcceptedError.self) {
            try await client.send(SMTPEnvelope(sender: "shop@example.com", recipients: ["nobody@example.org"], message: Self.message))
        }
        let report = try await client.send(SMTPEnvelope(sender: "shop@example.com", recipients: ["ok@example.org"], message: Self.message))

        #expect(report.accepted == ["ok@example.org"])
        #expect(client.connectionsOpened == 1)
        #expect(server.log.contains("RSET"))
    }

    @Test("a connection the server closed is replaced")
    func staleConnectionReplaced() async throws {
        let port = try TestEnvironment.unusedLoopbackPort()
        let first = try await SMTPTestServer.start(.init(port: port))
        let client = try client(first, connections: 1, messagesPerConnection: 100)
        _ = try await client.send(SMTPEnvelope(sender: "shop@example.com", recipients: ["a@example.org"], message: Self.message))

        // The idle pooled connection dies with the first server; a second one takes the port.
        first.stop()
        try await Task.sleep(for: .milliseconds(300))
        let second = try await SMTPTestServer.start(.init(port: port))

        let report = try await client.send(SMTPEnvelope(sender: "shop@example.com", recipients: ["b@example.org"], message: Self.message))
        #expect(report.accepted == ["b@example.org"])
        #expect(client.connectionsOpened == 2)
        #expect(try await second.waitForMessages(1).count == 1)
    }
}
