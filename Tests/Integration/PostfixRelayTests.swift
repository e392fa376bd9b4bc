import DocumentStore
import Foundation
import SMTP
import TestSupport
import Testing
import TriggerEmail

/// trigger-email sends to a private Postfix `smtpd`, which relays to aiosmtpd. Postfix and root
/// are required: without them the test fails with a message naming the fix.
@Suite("Delivery through a Postfix relay")
struct PostfixRelayTests {
    @Test("Cyrillic message with attachment relays exactly")
    func cyrillicMessageRelaysExactly() async throws {
        let server = try await SMTPTestServer.start()
        let relay = try await PostfixRelay.start(relayingTo: server.port)
        let configuration = SMTPServerConfiguration(host: "127.0.0.1", port: relay.port, security: .startTLSWhenOffered)
        let harness = try await DeliveryHarness(transport: { [configuration] logger in
            SMTPTransport(client: try SMTPClient(configuration: configuration, maxConnections: 1, logger: logger))
        })

        let text = "Здравствуйте, Анна!\n.Строка с точкой в начале\nFrom here on, plain ASCII.\n"
        let html = "<p>Здравствуйте, <b>Анна</b>!</p>\n.<i>точка</i>\n"
        let recipients = ["anna@example.org", "boris@example.org", "secret@example.org"]
        let id = try await harness.add([
            "to": "Анна Иванова <anna@example.org>",
            "cc": ["boris@example.org"],
            "bcc": "secret@example.org",
            "from": "Магазин <shop@example.com>",
            "message": [
                "subject": "Ваш заказ №1042 подтверждён",
                "text": .string(text),
                "html": .string(html),
                "attachments": [["filename": "Счёт №42.txt", "content": "Итого: 100 ₽\n"]],
            ],
        ])

        // trigger-email's view: Postfix accepted the message and queued it.
        let delivery = try #require(try await harness.waitForState(id)["delivery"])
        #expect(delivery[path: "state"] == "SUCCESS")
        #expect(delivery[path: "attempts"] == 1)
        #expect(delivery[path: "error"] == .null)
        #expect(delivery[path: "info.accepted"]?.strings == recipients)
        #expect(delivery[path: "info.rejected"]?.strings == [])
        #expect(delivery[path: "info.pending"]?.strings == [])
        let response = try #require(delivery[path: "info.response"]?.stringValue)
        let queuedPrefix = "250 2.0.0 Ok: queued as "
        try #require(response.hasPrefix(queuedPrefix), "the reply to the message data was \(response)")
        let queueID = String(response.dropFirst(queuedPrefix.count))
        #expect(!queueID.isEmpty)
        let isHexadecimal = queueID.allSatisfy { $0.isHexDigit }
        #expect(isHexadecimal, "the Postfix queue id was \(queueID)")

        // aiosmtpd's view: the message came from Postfix, with the envelope and content unchanged.
        let received = try #require(try await server.waitForMessages(1).first)
        #expect(received[path: "helo"] == .string(PostfixRelay.hostName))
        #expect(received[path: "mail_from"] == "shop@example.com")
        #expect(received[path: "rcpt_tos"]?.strings == recipients)

        let headerValues = try #require(received[path: "parsed.headers"]?.arrayValue)
        let headers = headerValues.compactMap { $0.strings }
        let receivedHeaders = headers.filter { $0.first == "Received" }.compactMap { $0.last }
        #expect(headers.first?.first == "Received")
        #expect(receivedHeaders.count == 1)
        #expect(receivedHeaders.first?.contains("by \(PostfixRelay.hostName) (Postfix) with ESMTP id \(queueID)") == true,
                "the Received header was \(receivedHeaders)")

        #expect(received[path: "parsed.subject"] == "Ваш заказ №1042 подтверждён")
        #expect(received[path: "parsed.from"] == "Магазин <shop@example.com>")
        #expect(received[path: "parsed.to"] == "Анна Иванова <anna@example.org>")
        #expect(received[path: "parsed.cc"] == "boris@example.org")
        #expect(received[path: "parsed.bcc"] == .null)
        #expect(received[path: "raw_text"]?.stringValue?.lowercased().contains("\nbcc:") == false)
        #expect(received[path: "parsed.message_id"] != nil)
        #expect(received[path: "parsed.message_id"] == delivery[path: "info.messageId"])
        #expect(received[path: "parsed.content_type"] == "multipart/mixed")
        // The attachment's Content-Type repeats its Cyrillic file name as RFC 2047 encoded-words
        // in quotes, a form for old clients that Python reports as defects of that header. Every
        // other header and part must parse cleanly.
        let defects = try #require(received[path: "parsed.defects"]?.arrayValue).compactMap { $0.stringValue }
        #expect(defects.filter { !$0.hasPrefix("part 4 (text/plain), header Content-Type: ") } == [])
        #expect((received[path: "max_line_length"]?.numberValue ?? 999) <= 998)
        #expect(received[path: "bare_line_feeds"] == 0)

        let parts = try #require(received[path: "parsed.parts"]?.arrayValue)
        #expect(parts.map { $0[path: "content_type"]?.stringValue } == ["text/plain", "text/html", "text/plain"])
        #expect(parts[0][path: "content"]?.stringValue == text.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(parts[1][path: "content"]?.stringValue == html.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(parts[2][path: "filename"] == "Счёт №42.txt")
        #expect(parts[2][path: "content"] == "Итого: 100 ₽\n")

        // Postfix's view: it delivered each recipient to the pinned relayhost and to nothing else.
        try await relay.waitForLog { log in
            recipients.allSatisfy { log.contains("\(queueID): to=<\($0)>, relay=127.0.0.1[127.0.0.1]:\(server.port),") }
        }
        #expect(relay.log.components(separatedBy: "status=sent").count - 1 == recipients.count)
        #expect(!relay.log.contains("status=deferred"))
        #expect(!relay.log.contains("status=bounced"))

        await harness.stop()
        try await relay.stop()
        server.stop()
    }
}
