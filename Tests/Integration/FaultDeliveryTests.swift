import DocumentStore
import Foundation
import SMTP
import TestSupport
import Testing
import TriggerEmail

@Suite("Delivery through a faulty SMTP server")
struct FaultDeliveryTests {
    @Test("Dropped data reply fails one document only")
    func droppedAfterDataThenNextDelivers() async throws {
        // Only the first connection loses its reply to the message data, so the second finds a
        // healthy server.
        let peer = try await FaultSMTPPeer.start(.init(fault: .drop(at: .messageData), faultyConnections: 1))
        let timeouts = SMTPTimeouts(connect: .seconds(2), greeting: .seconds(2), command: .seconds(2), data: .seconds(2))
        let configuration = SMTPServerConfiguration(host: "127.0.0.1", port: peer.port, security: .startTLSWhenOffered, timeouts: timeouts)
        let harness = try await DeliveryHarness(transport: { logger in
            SMTPTransport(client: try SMTPClient(configuration: configuration, maxConnections: 1, logger: logger))
        })

        let first = try await harness.add(["to": "anna@example.org", "from": "shop@example.com", "message": ["subject": "1", "text": "Hi"]])
        let failed = try #require(try await harness.waitForState(first)["delivery"])
        #expect(failed[path: "state"] == "ERROR")
        #expect(failed[path: "attempts"] == 1)
        #expect(failed[path: "error"] == .string(
            "message data failed at 127.0.0.1:\(peer.port): the server closed the connection. The message may have been delivered, so it was not sent again; check the recipient's mailbox before retrying."))
        #expect(failed[path: "info"] == nil)

        let second = try await harness.add(["to": "boris@example.org", "from": "shop@example.com", "message": ["subject": "2", "text": "Hi"]])
        let delivered = try #require(try await harness.waitForState(second)["delivery"])
        #expect(delivered[path: "state"] == "SUCCESS")
        #expect(delivered[path: "error"] == .null)
        #expect(delivered[path: "info.accepted"]?.strings == ["boris@example.org"])
        #expect(delivered[path: "info.response"] == "250 2.0.0 Ok: queued as 2")

        // The first document was not sent again: the peer saw each message once. The peer counts
        // an accepted message after its reply, so the count may lag the SUCCESS by a moment.
        let status = try await peer.waitForStatus { $0.messagesAccepted == 1 }
        #expect(status.connections == 2)
        #expect(status.messagesReceived == 2)
        #expect(status.messagesAccepted == 1)
        let firstAgain = try #require(try await harness.store.get(first, from: "mail"))
        #expect(firstAgain.data["delivery"]?[path: "state"] == "ERROR")
        #expect(firstAgain.data["delivery"]?[path: "attempts"] == 1)

        await harness.stop()
        peer.stop()
    }
}
