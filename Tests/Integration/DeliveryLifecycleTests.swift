import DocumentStore
import Foundation
import Logging
import SMTP
import TestSupport
import Testing
import TriggerEmail

@Suite("Delivery lifecycle")
struct DeliveryLifecycleTests {
    static let validMessage: JSONObject = [
        "to": "a@example.org", "from": "shop@example.com", "message": ["subject": "Hello", "text": "Hi"],
    ]

    @Test("New document starts PENDING with zero attempts")
    func newDocumentIsPending() async throws {
        let directory = try TestEnvironment.makeTemporaryDirectory()
        let store = try await SQLiteStoreOpener.open(directory)
        let queue = MailQueue(store: store, mailCollection: "mail")

        let document = try await queue.add(["to": "a@example.org", "delivery": ["state": "SUCCESS", "attempts": 7]])
        let delivery = try #require(try await store.get(document.id, from: "mail")?.data["delivery"])

        #expect(delivery[path: "state"] == "PENDING")
        #expect(delivery[path: "attempts"] == 0)
        #expect(delivery[path: "error"] == .null)
        #expect(delivery[path: "startTime"]?.stringValue.flatMap(Timestamp.init(rfc3339:)) != nil)
        await store.close()
    }

    @Test("RETRY on ERROR and SUCCESS sends again")
    func retrySendsAgain() async throws {
        let server = try await SMTPTestServer.start(.init(rejectRecipients: ["nobody"]))
        let harness = try await DeliveryHarness.sending(to: server)

        let succeeded = try await harness.add(Self.validMessage)
        #expect(try await harness.waitForState(succeeded)["delivery"]?[path: "state"] == "SUCCESS")
        _ = try await harness.store.merge(["delivery": ["state": "RETRY"]], id: succeeded, in: "mail")
        let resent = try #require(try await harness.waitForState(succeeded, ["SUCCESS"])["delivery"])
        #expect(resent[path: "attempts"] == 2)
        #expect(try await server.waitForMessages(2).count == 2)

        var failing = Self.validMessage
        failing["to"] = "nobody@example.org"
        let failed = try await harness.add(failing)
        #expect(try await harness.waitForState(failed)["delivery"]?[path: "state"] == "ERROR")
        _ = try await harness.store.merge(["to": "fixed@example.org", "delivery": ["state": "RETRY"]], id: failed, in: "mail")
        let retried = try #require(try await harness.waitForState(failed, ["SUCCESS"])["delivery"])
        #expect(retried[path: "attempts"] == 2)
        #expect(retried[path: "error"] == .null)
        #expect(retried[path: "info.accepted"]?.strings == ["fixed@example.org"])
        await harness.stop()
    }

    @Test("PENDING written on SUCCESS sends again")
    func pendingSendsAgain() async throws {
        let server = try await SMTPTestServer.start()
        let harness = try await DeliveryHarness.sending(to: server)

        let id = try await harness.add(Self.validMessage)
        _ = try await harness.waitForState(id)
        _ = try await harness.store.merge(["delivery": ["state": "PENDING"]], id: id, in: "mail")

        let delivery = try #require(try await harness.waitForState(id, ["SUCCESS"])["delivery"])
        #expect(delivery[path: "attempts"] == 2)
        #expect(try await server.waitForMessages(2).count == 2)
        await harness.stop()
    }

    @Test("Edit that keeps the state sends nothing")
    func editWithoutStateChangeSendsNothing() async throws {
        let server = try await SMTPTestServer.start()
        let harness = try await DeliveryHarness.sending(to: server)

        let edited = try await harness.add(Self.validMessage)
        _ = try await harness.waitForState(edited)
        _ = try await harness.store.merge(["message": ["subject": "Changed"], "note": "edited"], id: edited, in: "mail")

        // Claims go oldest first, so once a later document has been delivered, the edited one
        // would already have been sent if the edit had made it ready again.
        let later = try await harness.add(Self.validMessage)
        _ = try await harness.waitForState(later)

        let messages = try server.receivedMessages()
        #expect(messages.count == 2)
        #expect(messages.map { $0[path: "parsed.subject"] } == ["Hello", "Hello"])
        let delivery = try #require(try await harness.store.get(edited, from: "mail")?.data["delivery"])
        #expect(delivery[path: "attempts"] == 1)
        #expect(delivery[path: "state"] == "SUCCESS")
        await harness.stop()
    }

    @Test("Each validation rule ends in ERROR and the worker goes on")
    func validationErrors() async throws {
        let server = try await SMTPTestServer.start()
        let harness = try await DeliveryHarness.sending(to: server)

        let cases: [(JSONObject, String)] = [
            (["from": "shop@example.com", "message": ["subject": "S", "text": "T"]],
             "The document has no recipient: set at least one of to, cc, bcc, toUids, ccUids or bccUids."),
            (["to": "a@example.org", "from": "shop@example.com"],
             "The document has neither message nor template: add a message with a subject and a text or html body."),
            (["to": "a@example.org", "from": "shop@example.com", "message": ["text": "T"]],
             "Field 'message.subject' is missing: every message needs a subject."),
            (["to": "a@example.org", "from": "shop@example.com", "message": ["subject": "S"]],
             "The message has neither text nor html: set message.text, message.html or both."),
            (["to": 42, "from": "shop@example.com", "message": ["subject": "S", "text": "T"]],
             "Field 'to' must be a string or an array of strings, but it is a number."),
            (["to": ["a@example.org", true], "from": "shop@example.com", "message": ["subject": "S", "text": "T"]],
             "Field 'to[1]' must be a string, but it is a boolean."),
            (["to": "a@example.org", "from": "shop@example.com", "message": ["subject": ["x"], "text": "T"]],
             "Field 'message.subject' must be a string, but it is an array."),
            (["to": "a@example.org", "from": "shop@example.com", "message": "hello"],
             "Field 'message' must be an object with subject, text and html, but it is a string."),
            (["to": "a@example.org", "message": ["subject": "S", "text": "T"]],
             "The document has no 'from' and DEFAULT_FROM is not set: set one of them to the sender's address."),
            (["to": "not an address", "from": "shop@example.com", "message": ["subject": "S", "text": "T"]],
             "Field 'to' holds an invalid email address \"not an address\": it has no @."),
            (["to": "a@example.org", "from": "shop@example.com", "headers": ["X-Tag": "a\r\nBcc: evil@example.org"], "message": ["subject": "S", "text": "T"]],
             "Field 'headers.X-Tag' is invalid: the value contains a line break (CR or LF), which could inject header fields."),
            (["toUids": ["u1"], "from": "shop@example.com", "message": ["subject": "S", "text": "T"]],
             "The document uses toUids, ccUids or bccUids, but no users collection is configured: set USERS_COLLECTION."),
        ]

        var ids: [String] = []
        for (fields, _) in cases {
            ids.append(try await harness.add(fields))
        }
        let valid = try await harness.add(Self.validMessage)

        for (id, (_, expected)) in zip(ids, cases) {
            let delivery = try #require(try await harness.waitForState(id)["delivery"])
            #expect(delivery[path: "state"] == "ERROR")
            #expect(delivery[path: "error"] == .string(expected))
        }
        #expect(try await harness.waitForState(valid)["delivery"]?[path: "state"] == "SUCCESS")
        #expect(try await server.waitForMessages(1).count == 1)
        await harness.stop()
    }

    @Test("Outbox without SMTP writes an .eml file")
    func outboxWritesFile() async throws {
        let outbox = try TestEnvironment.makeTemporaryDirectory().appendingPathComponent("outbox")
        let harness = try await DeliveryHarness(transport: { _ in OutboxTransport(directory: outbox.path) })

        let id = try await harness.add(Self.validMessage)
        let delivery = try #require(try await harness.waitForState(id)["delivery"])

        let file = outbox.appendingPathComponent("\(id).eml")
        #expect(delivery[path: "state"] == "SUCCESS")
        #expect(delivery[path: "info.response"] == .string("Written to \(file.path) and not sent, because SMTP_CONNECTION_URI is not set."))
        let parsed = try await PythonEmailParser.parse(Array(try Data(contentsOf: file)))
        #expect(parsed[path: "parsed.message_id"] == delivery[path: "info.messageId"])
        #expect(parsed[path: "parsed.subject"] == "Hello")
        await harness.stop()
    }

    @Test("Live attempt renews its lease past expiry")
    func liveAttemptRenewsLease() async throws {
        // The attempt outlasts the lease by seconds; renewals every third of the lease keep it,
        // with room for a loaded test machine to renew late.
        let server = try await SMTPTestServer.start(.init(dataDelay: 12))
        let settings = MailProcessor.Settings(lease: .seconds(8), sweepInterval: .milliseconds(200))
        let harness = try await DeliveryHarness.sending(to: server, settings: settings)

        let id = try await harness.add(Self.validMessage)
        let delivery = try #require(try await harness.waitForState(id)["delivery"])

        #expect(delivery[path: "state"] == "SUCCESS")
        #expect(delivery[path: "attempts"] == 1)
        #expect(delivery[path: "error"] == .null)
        #expect(!harness.logs.records.contains { $0.message == "lease expired" })
        #expect(try server.receivedMessages().count == 1)
        await harness.stop()
    }

    @Test("Failed retry removes the earlier info")
    func failedRetryRemovesInfo() async throws {
        let server = try await SMTPTestServer.start(.init(rejectRecipients: ["nobody"]))
        let harness = try await DeliveryHarness.sending(to: server)

        let id = try await harness.add(Self.validMessage)
        #expect(try await harness.waitForState(id)["delivery"]?[path: "info.accepted"]?.strings == ["a@example.org"])
        _ = try await harness.store.merge(["to": "nobody@example.org", "delivery": ["state": "RETRY"]], id: id, in: "mail")

        let delivery = try #require(try await harness.waitForState(id, ["ERROR"])["delivery"])
        #expect(delivery[path: "attempts"] == 2)
        #expect(delivery[path: "info"] == nil)
        await harness.stop()
    }

    @Test("Lease sweep ends an expired PROCESSING document")
    func leaseSweepExpiresAttempt() async throws {
        let directory = try TestEnvironment.makeTemporaryDirectory()
        let store = try await SQLiteStoreOpener.open(directory)
        let now = Timestamp.now()
        let stale = try await store.add(
            ["to": "a@example.org", "delivery": ["state": "PROCESSING", "attempts": 1, "leaseExpireTime": .string(now.adding(milliseconds: -1).description)]],
            to: "mail", id: nil)
        let current = try await store.add(
            ["to": "a@example.org", "delivery": ["state": "PROCESSING", "attempts": 1, "leaseExpireTime": .string(now.adding(milliseconds: 60_000).description)]],
            to: "mail", id: nil)

        let processor = MailProcessor(store: store, transport: OutboxTransport(directory: directory.path), settings: .init(), now: { now }, logger: .init(label: "test", handler: SilentLogHandler()))
        await processor.expireLeases()

        let expired = try #require(try await store.get(stale.id, from: "mail")?.data["delivery"])
        #expect(expired[path: "state"] == "ERROR")
        #expect(expired[path: "error"] == "Message processing lease expired.")
        #expect(expired[path: "endTime"] == .string(now.description))
        #expect(expired[path: "leaseExpireTime"] == .null)
        #expect(try await store.get(current.id, from: "mail")?.data["delivery"]?[path: "state"] == "PROCESSING")
        await store.close()
    }
}
