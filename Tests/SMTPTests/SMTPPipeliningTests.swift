import Foundation
import Logging
import SMTP
import TestSupport
import Testing

/// Messages queued for one connection: the next message's MAIL FROM, RCPT TO and DATA go out
/// in the same write as the previous message's data (RFC 2920 section 3.1). Each case queues
/// its messages in order on a client with a single connection, against `FaultSMTPPeer`.
@Suite("SMTP pipelining across messages")
struct SMTPPipeliningTests {
    @Test("Queued messages pipelined on one connection")
    func queuedMessagesArePipelined() async throws {
        let peer = try await Self.startPeer()
        let outcomes = try await QueuedDelivery.send(count: 10, to: peer)

        for (index, outcome) in outcomes.enumerated() {
            #expect(throws: Never.self, "message \(index + 1)") { try outcome.get() }
        }
        let status = try await peer.waitForStatus { $0.messagesAccepted == 10 }
        #expect(status.connections == 1)
        // The first message's commands go out alone. A later message that is queued after the
        // previous data has left goes out alone too, so not every message is pipelined.
        #expect(status.pipelinedCommands > 0, "no message was pipelined: \(status)")
        peer.stop()
    }

    @Test("No pipelining without PIPELINING")
    func noPipeliningWithoutTheExtension() async throws {
        let peer = try await Self.startPeer(.init(offersPipelining: false))
        let outcomes = try await QueuedDelivery.send(count: 5, to: peer)

        for (index, outcome) in outcomes.enumerated() {
            #expect(throws: Never.self, "message \(index + 1)") { try outcome.get() }
        }
        let status = try await peer.waitForStatus { $0.messagesAccepted == 5 }
        #expect(status.connections == 1)
        #expect(status.pipelinedCommands == 0)
        peer.stop()
    }

    @Test("Rejected data spares the next message")
    func rejectedDataKeepsTheConnection() async throws {
        let peer = try await Self.startPeer(.init(fault: .reply("554 5.6.0 Message content rejected", at: .messageData), faultyTransaction: 1))
        let outcomes = try await QueuedDelivery.send(count: 3, to: peer)

        let error = try #require(outcomes[0].failure as? SMTPError)
        #expect(error.step == .messageData)
        #expect(error.reply?.code == 554)
        #expect(!error.mayHaveBeenDelivered)
        #expect(throws: Never.self) { try outcomes[1].get() }
        #expect(throws: Never.self) { try outcomes[2].get() }

        let status = try await peer.waitForStatus { $0.messagesAccepted == 2 }
        #expect(status.connections == 1)
        #expect(status.messagesReceived == 3)
        #expect(status.pipelinedCommands > 0, "no message was pipelined: \(status)")
        peer.stop()
    }

    @Test("421 after data resends the next message")
    func shutdownAfterDataResendsTheNextMessage() async throws {
        let peer = try await Self.startPeer(
            .init(fault: .reply("421 4.3.2 Service shutting down", at: .messageData), faultyConnections: 1, faultyTransaction: 1))
        let outcomes = try await QueuedDelivery.send(count: 2, to: peer)

        let error = try #require(outcomes[0].failure as? SMTPError)
        #expect(error.reply?.code == 421)
        #expect(error.isTemporary)
        #expect(throws: Never.self) { try outcomes[1].get() }

        let status = try await Self.expectNextMessageResent(by: peer)
        #expect(status.messagesReceived == 2)
        peer.stop()
    }

    @Test("Drop after data resends the next message")
    func dropAfterDataResendsTheNextMessage() async throws {
        let peer = try await Self.startPeer(.init(fault: .drop(at: .messageData), faultyConnections: 1, faultyTransaction: 1))
        let outcomes = try await QueuedDelivery.send(count: 2, to: peer)

        let error = try #require(outcomes[0].failure as? SMTPError)
        #expect(error.step == .messageData)
        #expect(error.mayHaveBeenDelivered)
        #expect(throws: Never.self) { try outcomes[1].get() }

        _ = try await Self.expectNextMessageResent(by: peer)
        peer.stop()
    }

    /// Starts the peer with a delay before each greeting. The test queues its messages
    /// meanwhile, so the first connection finds the next one queued even on a busy machine.
    private static func startPeer(_ options: FaultSMTPPeer.Options = .init()) async throws -> FaultSMTPPeer {
        var options = options
        options.greetingDelay = .milliseconds(200)
        return try await FaultSMTPPeer.start(options)
    }

    /// Checks that the second message went out pipelined behind the failed first one, and was
    /// accepted on a second connection. Returns the peer's status for further checks.
    private static func expectNextMessageResent(by peer: FaultSMTPPeer) async throws -> FaultSMTPPeer.Status {
        let status = try await peer.waitForStatus { $0.openConnections == 0 && $0.messagesAccepted == 1 }
        #expect(status.connections == 2)
        #expect(status.messagesAccepted == 1)
        #expect(status.pipelinedCommands > 0, "the second message was not pipelined on the first connection: \(status)")
        return status
    }

    @Test("Drop at pipelined DATA resends it")
    func dropAtPipelinedDataResends() async throws {
        let peer = try await Self.startPeer(.init(fault: .drop(at: .data), faultyConnections: 1, faultyTransaction: 2))
        let outcomes = try await QueuedDelivery.send(count: 2, to: peer)

        #expect(throws: Never.self, "message 1") { try outcomes[0].get() }
        #expect(throws: Never.self, "message 2") { try outcomes[1].get() }
        let status = try await peer.waitForStatus { $0.openConnections == 0 && $0.messagesAccepted == 2 }
        #expect(status.connections == 2)
        #expect(status.messagesReceived == 2)
        peer.stop()
    }

    @Test("Failed local check keeps the connection")
    func localCheckKeepsConnection() async throws {
        let peer = try await Self.startPeer()
        let outcomes = try await QueuedDelivery.send(count: 3, to: peer, needingSMTPUTF8: [1])

        #expect(throws: Never.self, "message 1") { try outcomes[0].get() }
        let error = try #require(outcomes[1].failure as? SMTPError)
        #expect(error.step == .mailFrom)
        #expect(error.reply == nil)
        #expect(error.description.contains("does not offer SMTPUTF8"))
        #expect(throws: Never.self, "message 3") { try outcomes[2].get() }

        let status = try await peer.waitForStatus { $0.messagesAccepted == 2 }
        #expect(status.connections == 1, "a healthy connection was replaced: \(status)")
        peer.stop()
    }
}

/// Messages handed to one `SMTPClient` with a single connection and 5-second timeouts, in
/// order, without waiting between them, so each can be pipelined after the one before.
private enum QueuedDelivery {
    /// Sends `count` messages to `peer` and returns their outcomes in the order they were queued.
    /// The messages at the positions in `needingSMTPUTF8` (from 0) need the SMTPUTF8 extension.
    static func send(count: Int, to peer: FaultSMTPPeer, needingSMTPUTF8: Set<Int> = []) async throws -> [Result<SMTPDeliveryReport, any Error>] {
        let timeouts = SMTPTimeouts(connect: .seconds(5), greeting: .seconds(5), command: .seconds(5), data: .seconds(5))
        let configuration = SMTPServerConfiguration(host: "127.0.0.1", port: peer.port, security: .startTLSWhenOffered, timeouts: timeouts)
        let client = try SMTPClient(configuration: configuration, maxConnections: 1, logger: Logger(label: "pipelining", level: .warning, handler: InMemoryLogHandler()))

        let (outcomes, collector) = AsyncStream.makeStream(of: (Int, Result<SMTPDeliveryReport, any Error>).self)
        for index in 0..<count {
            var message = envelope(index)
            message.requiresSMTPUTF8 = needingSMTPUTF8.contains(index)
            client.send(message) { outcome in
                collector.yield((index, outcome))
            }
        }

        var results: [Int: Result<SMTPDeliveryReport, any Error>] = [:]
        for await (index, outcome) in outcomes {
            results[index] = outcome
            if results.count == count { break }
        }
        withExtendedLifetime(client) {}
        return (0..<count).compactMap { results[$0] }
    }

    private static func envelope(_ index: Int) -> SMTPEnvelope {
        let recipient = "reader\(index + 1)@example.org"
        let message = "From: shop@example.com\r\nTo: \(recipient)\r\nSubject: Pipelined \(index + 1)\r\n\r\nHello.\r\n"
        return SMTPEnvelope(sender: "shop@example.com", recipients: [recipient], message: Array(message.utf8))
    }
}

private extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
