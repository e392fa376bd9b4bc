import DocumentStore
import Foundation
import SQLiteStore
import TestSupport
import Testing

/// The HTTP API of `trigger-email serve` over real HTTP, with a real SMTP server (aiosmtpd)
/// where messages are sent. Serialized, because the cases that catch a document in PENDING or
/// PROCESSING depend on the timing of the SMTP server's reply delay.
@Suite("HTTP API", .serialized)
struct HTTPAPITests {
    static let from = "Shop <shop@example.com>"

    static func message(to recipient: String, subject: String = "Order 1042") -> JSONValue {
        ["to": .string(recipient), "message": ["subject": .string(subject), "text": "It has shipped."]]
    }

    // MARK: - Documents

    @Test("Mail document from add to delete")
    func documentLifecycle() async throws {
        let smtp = try await SMTPTestServer.start()
        let server = try await APIServer.start(["SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(smtp.port)"])
        let api = server.client

        let added = try await api.send("POST", "/v1/mail", json: Self.message(to: "a@example.org"))
        #expect(added.status == 201)
        #expect(added.header("Content-Type") == "application/json; charset=utf-8")
        let document = try added.json()
        let id = try #require(document[path: "id"]?.stringValue)
        #expect(id.count == 20)
        #expect(added.header("Location") == "/v1/mail/\(id)")
        #expect(document[path: "collection"] == "mail")
        #expect(document[path: "data.delivery.state"] == "PENDING")
        #expect(document[path: "data.delivery.attempts"] == 0)
        #expect(document[path: "data.message.subject"] == "Order 1042")
        #expect(document[path: "createTime"] == document[path: "updateTime"])

        let delivered = try await api.waitForState("/v1/mail/\(id)", "SUCCESS")
        #expect(delivered[path: "data.delivery.attempts"] == 1)
        #expect(try await smtp.waitForMessages(1).count == 1)

        let read = try await api.send("GET", "/v1/mail/\(id)")
        #expect(read.status == 200)
        #expect(try read.json()[path: "data.to"] == "a@example.org")

        // A replacement without `delivery` keeps the record, so the message is not sent again.
        let replaced = try await api.send("PUT", "/v1/mail/\(id)", json: Self.message(to: "b@example.org", subject: "Edited"))
        #expect(replaced.status == 200)
        let replacedDocument = try replaced.json()
        #expect(replacedDocument[path: "data.to"] == "b@example.org")
        #expect(replacedDocument[path: "data.message.subject"] == "Edited")
        #expect(replacedDocument[path: "data.delivery.state"] == "SUCCESS")
        #expect(replacedDocument[path: "data.delivery.attempts"] == 1)
        #expect(replacedDocument[path: "createTime"] == document[path: "createTime"])

        // JSON Merge Patch: null removes a field, an object merges member by member.
        let patched = try await api.send(
            "PATCH", "/v1/mail/\(id)", body: #"{"message": {"subject": "Patched", "html": "<p>Hi</p>"}, "to": null, "cc": "c@example.org"}"#)
        #expect(patched.status == 200)
        let patchedData = try #require(try patched.json()[path: "data"])
        #expect(patchedData[path: "message"] == ["subject": "Patched", "text": "It has shipped.", "html": "<p>Hi</p>"])
        #expect(patchedData[path: "to"] == nil)
        #expect(patchedData[path: "cc"] == "c@example.org")
        #expect(patchedData[path: "delivery.state"] == "SUCCESS")

        try await Task.sleep(for: .milliseconds(500))
        #expect(try smtp.receivedMessages().count == 1, "an edit without delivery must not send the message again")

        // PUT on a free ID adds the document, which in the mail collection starts as PENDING.
        let created = try await api.send("PUT", "/v1/mail/order-1043", json: Self.message(to: "d@example.org"))
        #expect(created.status == 200)
        #expect(try created.json()[path: "data.delivery.state"] == "PENDING")
        #expect(try created.json()[path: "id"] == "order-1043")

        // Other collections are stored as they are, without a delivery record.
        let user = try await api.send("PUT", "/v1/users/u1", json: ["email": "u1@example.org"])
        #expect(user.status == 200)
        #expect(try user.json()[path: "data"] == ["email": "u1@example.org"])
        let addedUser = try await api.send("POST", "/v1/users", json: ["email": "u2@example.org"])
        #expect(addedUser.status == 201)
        #expect(try addedUser.json()[path: "data.delivery"] == nil)

        let deleted = try await api.send("DELETE", "/v1/mail/\(id)")
        #expect(deleted.status == 204)
        #expect(deleted.body.isEmpty)
        let deletedRead = try await api.send("GET", "/v1/mail/\(id)")
        #expect(deletedRead.status == 404)
        #expect(try deletedRead.errorMessage() == "No document with ID \(id) in mail.")
        #expect(try deletedRead.json()[path: "error.code"] == 404)
        #expect(try await api.send("DELETE", "/v1/mail/\(id)").status == 404)
        #expect(try await api.send("PATCH", "/v1/mail/\(id)", body: "{}").status == 404)

        #expect(try await server.stop() == 0)
    }

    @Test("Invalid bodies, names and IDs get 400")
    func invalidRequests() async throws {
        let server = try await APIServer.start()
        let api = server.client

        let notJSON = try await api.send("POST", "/v1/mail", body: "{not json")
        #expect(notJSON.status == 400)
        #expect(try notJSON.errorMessage() == "The request body is not valid JSON: Invalid JSON at byte 1: expected a string as object key.")

        let empty = try await api.send("POST", "/v1/mail", body: "")
        #expect(empty.status == 400)
        #expect(try empty.errorMessage().hasPrefix("The request body is not valid JSON"))

        for body in ["[1, 2]", "\"text\"", "null"] {
            let notObject = try await api.send("PUT", "/v1/mail/x1", body: body)
            #expect(notObject.status == 400, "\(body)")
            #expect(try notObject.errorMessage() == "The request body must be a JSON object with the document's fields.", "\(body)")
        }

        let badID = try await api.send("GET", "/v1/mail/not.valid")
        #expect(badID.status == 400)
        #expect(try badID.errorMessage() == #"Invalid document ID "not.valid": use 1 to 128 letters, digits, '-' or '_'."#)

        let longID = String(repeating: "a", count: 129)
        #expect(try await api.send("GET", "/v1/mail/\(longID)").status == 400)
        #expect(try await api.send("GET", "/v1/mail/\(String(repeating: "a", count: 128))").status == 404)

        let badCollection = try await api.send("GET", "/v1/ma%20il")
        #expect(badCollection.status == 400)
        #expect(try badCollection.errorMessage() == #"Invalid collection name "ma il": use 1 to 128 letters, digits, '-' or '_'."#)

        #expect(try await server.stop() == 0)
    }

    @Test("PROCESSING document keeps its state")
    func processingConflict() async throws {
        // The SMTP server delays its reply to the message data, so the attempt stays PROCESSING
        // until the test releases it.
        let smtp = try await SMTPTestServer.start(SMTPTestServer.Options(holdsData: true))
        let server = try await APIServer.start(["SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(smtp.port)"])
        let api = server.client

        let added = try await api.send("POST", "/v1/mail", json: Self.message(to: "a@example.org"))
        let id = try #require(try added.json()[path: "id"]?.stringValue)
        let path = "/v1/mail/\(id)"
        _ = try await api.waitForState(path, "PROCESSING")

        let backToPending = try await api.send("PATCH", path, body: #"{"delivery": {"state": "PENDING"}}"#)
        #expect(backToPending.status == 409)
        #expect(try backToPending.errorMessage().contains("(PROCESSING)"))
        #expect(try backToPending.json()[path: "error.code"] == 409)

        let replacedDelivery = try await api.send("PUT", path, body: #"{"to": "a@example.org", "delivery": {"state": "ERROR"}}"#)
        #expect(replacedDelivery.status == 409)
        // An earlier lease would let the sweep end the attempt while it may still deliver.
        let earlierLease = try await api.send("PATCH", path, body: #"{"delivery": {"leaseExpireTime": "2000-01-01T00:00:00.000Z"}}"#)
        #expect(earlierLease.status == 409)

        // A page of another site, sent through a browser, is refused.
        let crossSite = try await api.send("POST", "/v1/mail", body: #"{"to": "a@example.org"}"#, headers: [("Origin", "http://pages.example")])
        #expect(crossSite.status == 403)

        let retried = try await api.send("POST", "\(path):retry")
        #expect(retried.status == 409)
        #expect(try retried.errorMessage() == "Document \(id) is being sent (PROCESSING); retry it once it ends in SUCCESS or ERROR.")

        // Changes that leave the state alone are allowed, and the attempt still ends in SUCCESS.
        let edited = try await api.send("PUT", path, json: Self.message(to: "a@example.org", subject: "Edited while sending"))
        #expect(edited.status == 200)
        #expect(try edited.json()[path: "data.delivery.state"] == "PROCESSING")
        let note = try await api.send("PATCH", path, body: #"{"note": "gift wrap"}"#)
        #expect(note.status == 200)
        #expect(try note.json()[path: "data.delivery.state"] == "PROCESSING")

        try smtp.releaseData()
        let done = try await api.waitForState(path, "SUCCESS")
        #expect(done[path: "data.note"] == "gift wrap")
        #expect(done[path: "data.message.subject"] == "Edited while sending")
        #expect(done[path: "data.delivery.attempts"] == 1)
        #expect(try smtp.receivedMessages().count == 1)

        #expect(try await server.stop() == 0)
    }

    // MARK: - Listing

    @Test("Listing filters, pages and searches")
    func listing() async throws {
        let smtp = try await SMTPTestServer.start(SMTPTestServer.Options(rejectRecipients: ["reject"]))
        let server = try await APIServer.start(["SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(smtp.port)"])
        let api = server.client

        var ids: [String] = []
        for (index, recipient) in ["a@example.org", "reject1@example.org", "b@example.org", "reject2@example.org", "c@example.org"].enumerated() {
            let subject = index == 2 ? "Your INVOICE" : "Order \(index)"
            let added = try await api.send("POST", "/v1/mail", json: Self.message(to: recipient, subject: subject))
            ids.append(try #require(try added.json()[path: "id"]?.stringValue))
        }
        for id in ids {
            _ = try await api.waitForState("/v1/mail/\(id)", "SUCCESS", "ERROR")
        }

        let all = try await api.page("/v1/mail")
        #expect(all.ids == ids)
        #expect(all.nextPageToken == nil)

        #expect(try await api.page("/v1/mail?state=SUCCESS").ids == [ids[0], ids[2], ids[4]])
        #expect(try await api.page("/v1/mail?state=ERROR").ids == [ids[1], ids[3]])
        #expect(try await api.page("/v1/mail?state=error").ids == [], "the state is matched exactly")
        #expect(try await api.page("/v1/mail?order=desc").ids == ids.reversed())

        // Pages of two, oldest first, then newest first.
        var pages: [[String]] = []
        var token: String?
        repeat {
            let page = try await api.page("/v1/mail?limit=2" + (token.map { "&pageToken=\($0)" } ?? ""))
            pages.append(page.ids)
            token = page.nextPageToken
        } while token != nil && pages.count < 10
        #expect(pages == [[ids[0], ids[1]], [ids[2], ids[3]], [ids[4]]])

        let newest = try await api.page("/v1/mail?limit=2&order=desc")
        #expect(newest.ids == [ids[4], ids[3]])
        let newestToken = try #require(newest.nextPageToken)
        #expect(try await api.page("/v1/mail?limit=2&order=desc&pageToken=\(newestToken)").ids == [ids[2], ids[1]])

        // Search: recipients and subject, ignoring case, with its own page tokens.
        #expect(try await api.page("/v1/mail?q=REJECT").ids == [ids[1], ids[3]])
        #expect(try await api.page("/v1/mail?q=invoice").ids == [ids[2]])
        #expect(try await api.page("/v1/mail?q=nobody").ids == [])
        #expect(try await api.page("/v1/mail?q=").ids == ids, "an empty q lists every document")
        #expect(try await api.page("/v1/mail?q=example.org&state=SUCCESS").ids == [ids[0], ids[2], ids[4]])

        let firstMatch = try await api.page("/v1/mail?q=reject&limit=1")
        #expect(firstMatch.ids == [ids[1]])
        let searchToken = try #require(firstMatch.nextPageToken)
        let secondMatch = try await api.page("/v1/mail?q=reject&limit=1&pageToken=\(searchToken)")
        #expect(secondMatch.ids == [ids[3]])

        let invalid: [(query: String, message: String)] = [
            ("limit=0", "Invalid limit 0: use a number from 1 to 1000."),
            ("limit=1001", "Invalid limit 1001: use a number from 1 to 1000."),
            ("limit=ten", #"Invalid limit "ten": use a number from 1 to 1000."#),
            ("order=sideways", #"Invalid order "sideways": use asc (oldest first) or desc (newest first)."#),
            ("pageToken=abc", #"Invalid page token "abc": pass the nextPageToken of the previous page."#),
            ("pageToken=-5", #"Invalid page token "-5": pass the nextPageToken of the previous page."#),
            ("q=reject&pageToken=abc", #"Invalid page token "abc": pass the nextPageToken of the previous page of the same search."#),
            ("watch=yes", #"Invalid watch "yes": use true or false."#),
        ]
        for (query, message) in invalid {
            let response = try await api.send("GET", "/v1/mail?\(query)")
            #expect(response.status == 400, "\(query)")
            #expect(try response.errorMessage() == message, "\(query)")
        }

        #expect(try await server.stop() == 0)
    }

    @Test("Search rejects out-of-range limit")
    func searchLimit() async throws {
        let server = try await APIServer.start()
        let api = server.client
        _ = try await api.send("POST", "/v1/notes", json: ["to": "a@example.org"])

        for limit in ["0", "-1", "1001"] {
            let response = try await api.send("GET", "/v1/notes?q=example&limit=\(limit)")
            #expect(response.status == 400, "limit=\(limit)")
            #expect(try response.errorMessage() == "Invalid limit \(limit): use a number from 1 to 1000.", "limit=\(limit)")
        }
        #expect(server.isRunning, "the server died: \(server.log)")
        #expect(try await server.stop() == 0)
    }

    // MARK: - Event streams

    @Test("Document watch streams PENDING then SUCCESS")
    func watchDocument() async throws {
        // The SMTP server delays its reply to the message data until released, and serve claims
        // at most four documents at a time. With four documents ahead of it, the watched one
        // stays PENDING until the release.
        let smtp = try await SMTPTestServer.start(SMTPTestServer.Options(holdsData: true))
        let server = try await APIServer.start([
            "SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(smtp.port)", "SMTP_POOL_SIZE": "1", "MAX_CLAIMED_DOCUMENTS": "4",
        ])
        let api = server.client

        for index in 0..<4 {
            #expect(try await api.send("POST", "/v1/mail", json: Self.message(to: "ahead\(index)@example.org")).status == 201)
        }
        let added = try await api.send("POST", "/v1/mail", json: Self.message(to: "watched@example.org"))
        let id = try #require(try added.json()[path: "id"]?.stringValue)

        // :retry leaves a document that is waiting to be sent as it is.
        let retried = try await api.send("POST", "/v1/mail/\(id):retry")
        #expect(retried.status == 200)
        #expect(try retried.json()[path: "data.delivery.state"] == "PENDING")
        #expect(try retried.json()[path: "data.delivery.attempts"] == 0)

        let stream = try await api.openEventStream("/v1/mail/\(id)?watch=true")
        #expect(stream.status == 200)
        #expect(stream.header("Content-Type") == "text/event-stream; charset=utf-8")
        #expect(stream.header("Cache-Control") == "no-store")

        var states: [String] = []
        while states.last != "SUCCESS" && states.count < 10 {
            let event = try await stream.nextEvent(timeout: TestEnvironment.patience)
            #expect(event.name == "change")
            let snapshot = try JSONValue(parsing: event.data)
            #expect(snapshot[path: "id"] == .string(id))
            states.append(snapshot[path: "data.delivery.state"]?.stringValue ?? "none")
            if states.count == 1 { try smtp.releaseData() }
        }
        #expect(states.first == "PENDING")
        #expect(states.last == "SUCCESS")
        #expect(states.allSatisfy { ["PENDING", "PROCESSING", "SUCCESS"].contains($0) }, "\(states)")

        // Deleting the document sends a last snapshot with `deleted: true`.
        #expect(try await api.send("DELETE", "/v1/mail/\(id)").status == 204)
        let deleted = try JSONValue(parsing: try await stream.nextEvent(timeout: TestEnvironment.patience).data)
        #expect(deleted == ["id": .string(id), "deleted": true])
        // Watching a document that does not exist is a 404, not a stream.
        let missing = try await api.send("GET", "/v1/mail/\(id)?watch=true")
        #expect(missing.status == 404)
        #expect(try missing.errorMessage() == "No document with ID \(id) in mail.")

        // Stopping serve ends the open stream instead of waiting for the client.
        #expect(try await server.stop() == 0)
        await #expect(throws: EventStreamEnded.self) { try await stream.nextEvent(timeout: .seconds(5)) }
        stream.close()
    }

    @Test("Listing watch sends each changed page")
    func watchListing() async throws {
        let server = try await APIServer.start()
        let api = server.client

        let stream = try await api.openEventStream("/v1/notes?watch=true&order=desc")
        #expect(stream.status == 200)
        #expect(try JSONValue(parsing: try await stream.nextEvent(timeout: TestEnvironment.patience).data) == ["documents": []])

        let first = try #require(try await api.send("POST", "/v1/notes", json: ["text": "first"]).json()[path: "id"]?.stringValue)
        let afterFirst = try JSONValue(parsing: try await stream.nextEvent(timeout: TestEnvironment.patience).data)
        #expect(afterFirst[path: "documents"]?.arrayValue?.compactMap { $0[path: "id"]?.stringValue } == [first])

        let second = try #require(try await api.send("POST", "/v1/notes", json: ["text": "second"]).json()[path: "id"]?.stringValue)
        let afterSecond = try JSONValue(parsing: try await stream.nextEvent(timeout: TestEnvironment.patience).data)
        #expect(afterSecond[path: "documents"]?.arrayValue?.compactMap { $0[path: "id"]?.stringValue } == [second, first])

        // A change in another collection leaves the page as it was, so no event is sent.
        _ = try await api.send("POST", "/v1/other", json: ["text": "elsewhere"])
        #expect(try await api.send("DELETE", "/v1/notes/\(first)").status == 204)
        let afterDelete = try await stream.nextEvent(timeout: TestEnvironment.patience)
        #expect(afterDelete.name == "change")
        #expect(try JSONValue(parsing: afterDelete.data)[path: "documents"]?.arrayValue?.count == 1)
        stream.close()

        let badWatch = try await api.send("GET", "/v1/notes?watch=1")
        #expect(badWatch.status == 400)
        #expect(try await server.stop() == 0)
    }

    @Test("Listing keeps only requested fields")
    func listingFields() async throws {
        let server = try await APIServer.start()
        let api = server.client
        let note: JSONValue = [
            "to": "a@example.org", "message": ["subject": "Report", "text": "Attached.", "attachments": [["filename": "big.txt", "content": "AAAA"]]],
            "delivery": ["state": "SUCCESS", "attempts": 1],
        ]
        let id = try #require(try await api.send("POST", "/v1/notes", json: note).json()[path: "id"]?.stringValue)

        let masked = try await api.send("GET", "/v1/notes?fields=to,message.subject,delivery.state,missing,message.subject.deeper")
        #expect(masked.status == 200)
        let document = try #require(try masked.json()[path: "documents"]?.arrayValue?.first)
        #expect(document[path: "id"] == .string(id))
        #expect(document[path: "createTime"] != nil)
        #expect(document[path: "data"] == ["to": "a@example.org", "message": ["subject": "Report"], "delivery": ["state": "SUCCESS"]])

        // A whole object and a path inside it give the whole object.
        let nested = try await api.send("GET", "/v1/notes?fields=delivery.state,delivery")
        #expect(try nested.json()[path: "documents"]?.arrayValue?.first?[path: "data"] == ["delivery": ["state": "SUCCESS", "attempts": 1]])

        let stream = try await api.openEventStream("/v1/notes?watch=true&fields=to")
        let first = try JSONValue(parsing: try await stream.nextEvent(timeout: TestEnvironment.patience).data)
        #expect(first[path: "documents"]?.arrayValue?.first?[path: "data"] == ["to": "a@example.org"])
        stream.close()

        for bad in ["", "to,,cc", "message..subject", ".to", "to."] {
            let response = try await api.send("GET", "/v1/notes?fields=\(bad)")
            #expect(response.status == 400, "fields=\(bad)")
            #expect(try response.errorMessage().hasPrefix("Invalid fields \"\(bad)\": use field paths separated by commas"))
        }
        let tooMany = try await api.send("GET", "/v1/notes?fields=" + (1...101).map { "f\($0)" }.joined(separator: ","))
        #expect(tooMany.status == 400)
        #expect(try tooMany.errorMessage() == "Invalid fields: 101 field paths, more than the 100 allowed.")

        #expect(try await server.stop() == 0)
    }

    // MARK: - Custom methods

    @Test(":retry sends a document again")
    func retryDocument() async throws {
        let smtp = try await SMTPTestServer.start()
        let server = try await APIServer.start(["SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(smtp.port)"])
        let api = server.client

        let id = try #require(try await api.send("POST", "/v1/mail", json: Self.message(to: "a@example.org")).json()[path: "id"]?.stringValue)
        _ = try await api.waitForState("/v1/mail/\(id)", "SUCCESS")

        let retried = try await api.send("POST", "/v1/mail/\(id):retry")
        #expect(retried.status == 200)
        let retriedDocument = try retried.json()
        #expect(retriedDocument[path: "id"] == .string(id))
        // The processor may claim the document before the response is written.
        let state = retriedDocument[path: "data.delivery.state"]?.stringValue ?? "none"
        #expect(["RETRY", "PROCESSING", "SUCCESS"].contains(state), "\(state)")

        let again = try await api.waitForState("/v1/mail/\(id)", "SUCCESS", attempts: 2)
        #expect(again[path: "data.delivery.attempts"] == 2)
        #expect(try await smtp.waitForMessages(2).count == 2)

        let missing = try await api.send("POST", "/v1/mail/nope:retry")
        #expect(missing.status == 404)
        #expect(try missing.errorMessage() == "No document with ID nope in mail.")

        let otherCollection = try await api.send("POST", "/v1/users/u1:retry")
        #expect(otherCollection.status == 400)
        #expect(try otherCollection.errorMessage() == "Only documents of the mail collection mail can be retried.")

        let unknownMethod = try await api.send("POST", "/v1/mail/\(id):resend")
        #expect(unknownMethod.status == 404)

        #expect(try await server.stop() == 0)
    }

    @Test(":retryErrors retries each ERROR document once")
    func retryErrors() async throws {
        let smtp = try await SMTPTestServer.start()
        let server = try await APIServer.start(["SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(smtp.port)"])
        let api = server.client

        // Documents without a recipient fail at once, before any SMTP connection, so the first
        // ones retried are back in ERROR while the request still retries the others.
        var failed: [String] = []
        for index in 0..<20 {
            let added = try await api.send("POST", "/v1/mail", json: ["message": ["subject": .string("No recipient \(index)"), "text": "Hello"]])
            failed.append(try #require(try added.json()[path: "id"]?.stringValue))
        }
        let sent = try #require(try await api.send("POST", "/v1/mail", json: Self.message(to: "a@example.org")).json()[path: "id"]?.stringValue)
        for id in failed {
            _ = try await api.waitForState("/v1/mail/\(id)", "ERROR")
        }
        _ = try await api.waitForState("/v1/mail/\(sent)", "SUCCESS")

        let retried = try await api.send("POST", "/v1/mail:retryErrors")
        #expect(retried.status == 200)
        let result = try retried.json()
        #expect(result[path: "retried"] == 20)

        // Both fail again and end in ERROR after their second attempt, and no third one follows.
        for id in failed {
            let document = try await api.waitForState("/v1/mail/\(id)", "ERROR", attempts: 2)
            #expect(document[path: "data.delivery.attempts"] == 2)
            #expect(document[path: "data.delivery.error"]?.stringValue?.hasPrefix("The document has no recipient") == true)
        }
        try await Task.sleep(for: .milliseconds(500))
        for id in failed {
            #expect(try await api.send("GET", "/v1/mail/\(id)").json()[path: "data.delivery.attempts"] == 2)
        }
        #expect(try smtp.receivedMessages().count == 1)
        let untouched = try await api.send("GET", "/v1/mail/\(sent)").json()
        #expect(untouched[path: "data.delivery.attempts"] == 1)
        #expect(untouched[path: "data.delivery.state"] == "SUCCESS")

        let otherCollection = try await api.send("POST", "/v1/users:retryErrors")
        #expect(otherCollection.status == 400)
        #expect(try otherCollection.errorMessage() == "Only documents of the mail collection mail can be retried.")

        #expect(try await server.stop() == 0)
    }

    @Test("unreadable document listed, not retried")
    func unreadableDocument() async throws {
        // The store writes nesting that its reader rejects (over 512 levels), as SQL could.
        let directory = try TestEnvironment.makeTemporaryDirectory()
        let path = directory.appendingPathComponent("mail.db").path
        let store = try await SQLiteStore.open(path: path)
        let nested = (0..<600).reduce(JSONValue.array([])) { inner, _ in .array([inner]) }
        _ = try await store.add(["to": "a@example.org", "nested": nested], to: "mail", id: "deep")
        await store.close()
        let smtp = try await SMTPTestServer.start()
        let server = try await APIServer.start(["DATABASE_URL": "sqlite:\(path)", "SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(smtp.port)"])
        let api = server.client

        let document = try await api.waitForState("/v1/mail/deep", "ERROR", attempts: 0)
        let listed = try await api.send("GET", "/v1/mail?state=ERROR")
        let retried = try await api.send("POST", "/v1/mail:retryErrors")
        let patched = try await api.send("PATCH", "/v1/mail/deep", body: #"{"delivery": {"state": "RETRY"}}"#)

        #expect(document[path: "data.delivery.error"]?.stringValue?.hasPrefix("The document cannot be read: ") == true)
        #expect(document[path: "data.unreadableData"]?.stringValue?.hasPrefix(#"{"nested":[[[["#) == true)
        #expect(listed.status == 200)
        #expect(try listed.json()[path: "documents"]?.arrayValue?.count == 1)
        #expect(try retried.json() == ["retried": 0, "unreadable": 1])
        #expect(patched.status == 409)
        #expect(try patched.errorMessage().hasSuffix("so it cannot be changed. Correct it with SQL first."))
        #expect(server.log.contains("document cannot be read; ended as ERROR"))
        #expect(try await server.stop() == 0)
    }

    // MARK: - Protocol

    @Test("API_TOKEN requires a bearer token")
    func bearerToken() async throws {
        let token = "t0k3n-\(UUID().uuidString)"
        let server = try await APIServer.start(["API_TOKEN": token])
        let anonymous = APIClient(port: server.port)

        let cases: [(authorization: String?, status: Int)] = [
            (nil, 401),
            ("Bearer wrong", 401),
            ("Bearer \(token.dropLast())", 401),
            ("Bearer \(token)x", 401),
            ("Basic \(token)", 401),
            ("Bearer", 401),
            ("Bearer \(token)", 200),
            ("bearer \(token)", 200),
        ]
        for (authorization, status) in cases {
            let headers = authorization.map { [("Authorization", $0)] } ?? []
            let response = try await anonymous.send("GET", "/v1/mail", headers: headers)
            #expect(response.status == status, "Authorization: \(authorization ?? "(none)")")
            if status == 401 {
                #expect(response.header("WWW-Authenticate") == "Bearer")
                #expect(try response.json()[path: "error.code"] == 401)
                #expect(try response.errorMessage() == "Missing or wrong bearer token: send the header Authorization: Bearer API_TOKEN.")
            }
        }

        // The token is checked before the path, so unknown paths under /v1 give nothing away.
        #expect(try await anonymous.send("GET", "/v1/a/b/c").status == 401)
        #expect(try await anonymous.send("DELETE", "/v1/mail").status == 401)
        #expect(try await anonymous.send("GET", "/v1/mail?watch=true").status == 401)
        #expect(try await anonymous.send("GET", "/metrics").status == 401)
        #expect(try await anonymous.send("GET", "/healthz").status == 200)

        let authorized = APIClient(port: server.port, token: token)
        #expect(try await authorized.send("GET", "/metrics").status == 200)
        #expect(try await authorized.send("POST", "/v1/mail", json: Self.message(to: "a@example.org")).status == 201)

        #expect(try await server.stop() == 0)
    }

    @Test("Public LISTEN without API_TOKEN fails")
    func publicListenNeedsToken() async throws {
        let port = try TestEnvironment.unusedLoopbackPort()
        let program = try ProgramRunner(environment: ["LISTEN": "0.0.0.0:\(port)"])
        let result = try await program.run(["serve"])
        #expect(result.status == 1)
        #expect(
            result.errors.hasSuffix(
                "trigger-email: error: Invalid API_TOKEN: LISTEN 0.0.0.0:\(port) can be reached from other machines, so the HTTP API needs a token; set API_TOKEN to a long random string, or set LISTEN to a loopback address such as 127.0.0.1:8025.\n"))
        #expect(!FileManager.default.fileExists(atPath: program.databasePath), "serve opened the store before it checked LISTEN")

        let ipv6 = try await ProgramRunner(environment: ["LISTEN": "[::]:\(port)"]).run(["serve"])
        #expect(ipv6.status == 1)
        #expect(ipv6.errors.contains("LISTEN [::]:\(port) can be reached from other machines"))
    }

    @Test("Body over API_MAX_BODY_BYTES gets 413")
    func bodyLimit() async throws {
        let server = try await APIServer.start(["API_MAX_BODY_BYTES": "64"])
        let api = server.client
        let expected = "The request body is larger than 64 bytes; send a smaller document or raise API_MAX_BODY_BYTES."

        let fits = #"{"to": "a@example.org", "note": "\#(String(repeating: "x", count: 29))"}"#
        #expect(fits.utf8.count == 64)
        #expect(try await api.send("POST", "/v1/notes", body: fits).status == 201)

        let tooLarge = #"{"to": "a@example.org", "note": "\#(String(repeating: "x", count: 30))"}"#
        let announced = try await api.send("POST", "/v1/notes", body: tooLarge)
        #expect(announced.status == 413)
        #expect(try announced.errorMessage() == expected)
        #expect(try announced.json()[path: "error.code"] == 413)

        // Without Content-Length the limit is found while the chunks arrive.
        let chunked = try await api.send("PUT", "/v1/notes/n1", body: tooLarge, chunked: true)
        #expect(chunked.status == 413)
        #expect(try chunked.errorMessage() == expected)
        let chunkedFits = try await api.send("PUT", "/v1/notes/n2", body: fits, chunked: true)
        #expect(chunkedFits.status == 200)

        let ids = try await api.page("/v1/notes").ids
        #expect(ids.count == 2)
        #expect(ids.contains("n2"))
        #expect(!ids.contains("n1"))

        #expect(try await server.stop() == 0)
    }

    @Test("Trickled header fields are cut off")
    func slowHeaderFieldsCutOff() async throws {
        let server = try await APIServer.start()
        let port = server.port

        // One header line a second resets libmicrohttpd's idle timeout each time, so only the
        // 10-second header deadline can end this request.
        let started = ContinuousClock.now
        let closedByServer = try await runOnOwnThread {
            let connection = try LoopbackConnection(port: port)
            defer { connection.close() }
            try connection.write(Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n".utf8))
            var lineNumber = 0
            while ContinuousClock.now - started < TestEnvironment.patience {
                lineNumber += 1
                try connection.write(Array("X-Line-\(lineNumber): slow\r\n".utf8))
                do {
                    if try connection.readSome().isEmpty { return true }
                } catch is ReadTimedOut {
                    continue
                }
            }
            return false
        }

        #expect(closedByServer)
        #expect(ContinuousClock.now - started >= .seconds(9))
        // Other clients are served as before.
        #expect(try await server.client.send("GET", "/healthz").status == 200)
        #expect(try await server.stop() == 0)
    }

    @Test("Ambiguous body length gets 400")
    func ambiguousBodyLength() async throws {
        let server = try await APIServer.start()
        let api = server.client
        let body = #"{"to": "a@example.org"}"#

        let twoLengths = try await api.send("POST", "/v1/notes", body: body, headers: [("Content-Length", "5")])
        #expect(twoLengths.status == 400)
        #expect(try twoLengths.errorMessage() == "The request has Content-Length fields that differ (23, 5); send one.")
        #expect(twoLengths.header("Connection") == "close")

        let lengthAndChunks = try await api.send("POST", "/v1/notes", body: body, headers: [("Transfer-Encoding", "chunked")])
        #expect(lengthAndChunks.status == 400)
        #expect(try lengthAndChunks.errorMessage() == "The request has both Content-Length and Transfer-Encoding; send only one of them.")

        // Each request below hides a second one in what the server would take as its body,
        // if it read the length differently from a proxy in front.
        let hidden = "POST /v1/notes HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\nContent-Length: 23\r\n\r\n\(body)"
        let framings = [
            ("Content-Length : \(hidden.utf8.count)", "The header field name \"Content-Length \" contains whitespace"),
            ("Transfer-Encoding: gzip", "Transfer-Encoding \"gzip\" is not supported"),
            ("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked", "Transfer-Encoding \"chunked, chunked\" is not supported"),
        ]
        for (field, message) in framings {
            let request = "POST /v1/notes HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\n\(field)\r\n\r\n\(hidden)"
            let port = server.port
            let received = try await runOnOwnThread {
                let connection = try LoopbackConnection(port: port)
                defer { connection.close() }
                try connection.write(Array(request.utf8))
                return try connection.readToEnd()
            }
            let text = String(decoding: received, as: UTF8.self)
            #expect(text.components(separatedBy: "HTTP/1.1 ").count == 2, "one response only for \(field): \(text)")
            let response = try HTTPMessageParser.parseWhole(received)
            #expect(response.status == 400, "\(field)")
            #expect(try response.errorMessage().hasPrefix(message), "\(field)")
        }

        #expect(try await api.page("/v1/notes").ids.isEmpty)
        #expect(try await server.stop() == 0)
    }

    @Test("405 with Allow and 404 in JSON")
    func methodsAndPaths() async throws {
        let server = try await APIServer.start()
        let api = server.client

        let notAllowed: [(method: String, path: String, allow: String)] = [
            ("DELETE", "/v1/mail", "GET, POST"),
            ("PUT", "/v1/mail", "GET, POST"),
            ("POST", "/v1/mail/x1", "GET, PUT, PATCH, DELETE"),
            ("OPTIONS", "/v1/mail/x1", "GET, PUT, PATCH, DELETE"),
            ("GET", "/v1/mail:retryErrors", "POST"),
            ("GET", "/v1/mail/x1:retry", "POST"),
            ("POST", "/healthz", "GET"),
            ("DELETE", "/metrics", "GET"),
        ]
        for (method, path, allow) in notAllowed {
            let response = try await api.send(method, path)
            #expect(response.status == 405, "\(method) \(path)")
            #expect(response.header("Allow") == allow, "\(method) \(path)")
            #expect(try response.json()[path: "error.code"] == 405, "\(method) \(path)")
            #expect(try response.errorMessage() == "\(method) is not allowed on \(path); use \(allow).", "\(method) \(path)")
        }

        for path in ["/nothing", "/v1", "/v1/", "/v1/mail/x1/extra", "/v1/mail:frobnicate", "/v1/mail/x1:frobnicate", "/healthz/more"] {
            let response = try await api.send("GET", path)
            #expect(response.status == 404, "\(path)")
            #expect(response.header("Content-Type") == "application/json; charset=utf-8", "\(path)")
            #expect(try response.json()[path: "error.code"] == 404, "\(path)")
            #expect(try response.errorMessage() == "Nothing at \(path): the API is under /v1/{collection} and /v1/{collection}/{id}.", "\(path)")
        }

        #expect(try await server.stop() == 0)
    }

    // MARK: - Health and metrics

    @Test("/healthz reports store and SMTP")
    func health() async throws {
        let smtp = try await SMTPTestServer.start()
        let healthy = try await APIServer.start(["SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(smtp.port)"])
        let report = try await healthy.client.send("GET", "/healthz")
        #expect(report.status == 200)
        #expect(report.header("Content-Type") == "application/json; charset=utf-8")
        let body = try report.json()
        #expect(body[path: "ok"] == true)
        #expect(body[path: "checks.store.ok"] == true)
        #expect(body[path: "checks.store.detail"] == "reachable")
        #expect(body[path: "checks.smtp.ok"] == true)
        #expect(body[path: "checks.smtp.detail"]?.stringValue?.hasPrefix("reachable: ") == true)
        #expect(try await healthy.stop() == 0)

        // Nothing listens on this port, so the SMTP check fails and the report is 503.
        let closedPort = try TestEnvironment.unusedLoopbackPort()
        let unhealthy = try await APIServer.start(["SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(closedPort)"])
        let failing = try await unhealthy.client.send("GET", "/healthz")
        #expect(failing.status == 503)
        let failingBody = try failing.json()
        #expect(failingBody[path: "ok"] == false)
        #expect(failingBody[path: "checks.store.ok"] == true)
        #expect(failingBody[path: "checks.smtp.ok"] == false)
        let detail = failingBody[path: "checks.smtp.detail"]?.stringValue ?? ""
        #expect(detail.contains("\(closedPort)"), "\(detail)")
        #expect(try await unhealthy.stop() == 0)

        // Without an SMTP server the check is that the outbox folder can be written.
        let outbox = try await APIServer.start()
        let outboxReport = try await outbox.client.send("GET", "/healthz").json()
        #expect(outboxReport[path: "checks.smtp.ok"] == true)
        #expect(outboxReport[path: "checks.smtp.detail"]?.stringValue?.hasPrefix("no SMTP server configured") == true)
        #expect(try await outbox.stop() == 0)
    }

    @Test("/metrics after real deliveries")
    func metrics() async throws {
        let smtp = try await SMTPTestServer.start(SMTPTestServer.Options(rejectRecipients: ["reject"]))
        let server = try await APIServer.start(["SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(smtp.port)", "SMTP_POOL_SIZE": "1"])
        let api = server.client

        let sent = try #require(try await api.send("POST", "/v1/mail", json: Self.message(to: "a@example.org")).json()[path: "id"]?.stringValue)
        _ = try await api.waitForState("/v1/mail/\(sent)", "SUCCESS")
        let rejected = try #require(try await api.send("POST", "/v1/mail", json: Self.message(to: "reject@example.org")).json()[path: "id"]?.stringValue)
        _ = try await api.waitForState("/v1/mail/\(rejected)", "ERROR")
        _ = try await api.send("PUT", "/v1/notes/n1", json: ["text": "not mail"])

        let response = try await api.send("GET", "/metrics")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        let samples = Self.samples(response.text)

        #expect(samples[#"trigger_email_documents{state="SUCCESS"}"#] == 1)
        #expect(samples[#"trigger_email_documents{state="ERROR"}"#] == 1)
        #expect(samples[#"trigger_email_documents{state="PENDING"}"#] == 0)
        #expect(samples[#"trigger_email_documents{state="OTHER"}"#] == 0)
        #expect(samples["trigger_email_delivery_attempts_total"] == 2)
        #expect(samples[#"trigger_email_delivery_outcomes_total{outcome="success"}"#] == 1)
        #expect(samples[#"trigger_email_delivery_outcomes_total{outcome="error"}"#] == 1)
        #expect(samples[#"trigger_email_delivery_outcomes_total{outcome="lease_expired"}"#] == 0)
        #expect(samples[#"trigger_email_smtp_replies_total{class="2xx"}"#] == 1)
        #expect(samples[#"trigger_email_smtp_replies_total{class="5xx"}"#] == 1)
        #expect(samples[#"trigger_email_smtp_replies_total{class="4xx"}"#] == 0)
        #expect(samples[#"trigger_email_smtp_connections{state="in_use"}"#] == 0)
        #expect(samples[#"trigger_email_smtp_connections{state="idle"}"#] == 1)
        #expect(samples["trigger_email_smtp_connections_opened_total"] == 1)

        #expect(samples["trigger_email_insert_to_success_seconds_count"] == 1)
        #expect(samples[#"trigger_email_insert_to_success_seconds_bucket{le="+Inf"}"#] == 1)
        #expect(samples[#"trigger_email_insert_to_success_seconds_bucket{le="300.0"}"#] == 1)
        #expect((samples["trigger_email_insert_to_success_seconds_sum"] ?? 0) > 0)
        #expect(samples["trigger_email_smtp_transaction_seconds_count"] == 2)
        #expect(samples[#"trigger_email_smtp_transaction_seconds_bucket{le="+Inf"}"#] == 2)
        #expect((samples["trigger_email_smtp_transaction_seconds_sum"] ?? 0) > 0)
        #expect(response.text.contains("# TYPE trigger_email_smtp_transaction_seconds histogram\n"))
        #expect(response.text.contains("# TYPE trigger_email_delivery_attempts_total counter\n"))

        #expect(try await server.stop() == 0)
    }

    /// Parses the samples of a Prometheus text page into values keyed by name and labels.
    static func samples(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    // NOTE: the 30 s timeout for a connection that sends nothing is not tested here, because
    // MicroHTTPDServer.Limits fixes it at 30 s and no setting shortens it for a test.
}

// MARK: - Test server and client

/// `trigger-email serve` on a free loopback port, in a folder of its own, with the outbox
/// unless the environment names an SMTP server.
struct APIServer {
    let child: ChildProcess
    let port: Int

    var client: APIClient { APIClient(port: port, token: nil) }
    var isRunning: Bool { child.process.isRunning }
    var log: String { child.standardError }

    static func start(_ environment: [String: String] = [:]) async throws -> APIServer {
        let program = try ProgramRunner(environment: ["DEFAULT_FROM": HTTPAPITests.from].merging(environment) { _, new in new })
        let (child, port) = try await program.startServe()
        return APIServer(child: child, port: port)
    }

    /// Stops the server with SIGTERM and returns its exit status; SIGKILL when it does not end in time.
    func stop() async throws -> Int32 {
        child.terminate()
        do {
            return try await child.waitForExit(timeout: TestEnvironment.patience)
        } catch {
            child.kill()
            throw TestEnvironmentError("\(error); the log of serve:\n\(child.standardError)")
        }
    }
}

/// One response, read to its end.
struct APIResponse: Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    /// Returns the first header field with this name, compared without case.
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    func json() throws -> JSONValue {
        try JSONValue(parsing: body)
    }

    /// `error.message` of an error response.
    func errorMessage() throws -> String {
        let message = try json()[path: "error.message"]?.stringValue
        return try #require(message, "not an error response: \(status) \(text)")
    }
}

/// A page of a listing: its document IDs and its token for the next page.
struct APIPage {
    var ids: [String]
    var nextPageToken: String?
}

/// A small HTTP/1.1 client over blocking sockets to 127.0.0.1.
///
/// Each request gets a connection of its own (`Connection: close`) and runs on a thread of its
/// own, so blocking reads never hold a thread of Swift's cooperative pool. It writes requests
/// byte for byte as given, which the cases of announced and chunked bodies over the limit
/// need. Reads time out after 30 s.
struct APIClient: Sendable {
    var port: Int
    var token: String?

    func send(
        _ method: String, _ target: String, body: String? = nil, headers: [(String, String)] = [], chunked: Bool = false
    ) async throws -> APIResponse {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }

        var request = Array(head.utf8)
        if let body {
            let bytes = Array(body.utf8)
            request += Array("Content-Type: application/json\r\n".utf8)
            if chunked {
                // Two chunks, so a body over the limit crosses it only with the second chunk.
                let middle = bytes.count / 2
                request += Array("Transfer-Encoding: chunked\r\n\r\n".utf8)
                for piece in [bytes[..<middle], bytes[middle...]] where !piece.isEmpty {
                    request += Array("\(String(piece.count, radix: 16))\r\n".utf8) + piece + Array("\r\n".utf8)
                }
                request += Array("0\r\n\r\n".utf8)
            } else {
                request += Array("Content-Length: \(bytes.count)\r\n\r\n".utf8) + bytes
            }
        } else {
            request += Array("\r\n".utf8)
        }

        let port = port
        let bytes = request
        return try await runOnOwnThread {
            let connection = try LoopbackConnection(port: port)
            defer { connection.close() }
            try connection.write(bytes)
            do {
                return try HTTPMessageParser.parseWhole(try connection.readToEnd())
            } catch {
                throw TestEnvironmentError("\(method) \(target): \(error)")
            }
        }
    }

    func send(_ method: String, _ target: String, json: JSONValue) async throws -> APIResponse {
        try await send(method, target, body: json.serialized())
    }

    /// Reads a listing and fails on any status but 200.
    func page(_ target: String) async throws -> APIPage {
        let response = try await send("GET", target)
        guard response.status == 200 else {
            throw TestEnvironmentError("GET \(target) returned \(response.status): \(response.text)")
        }
        let page = try response.json()
        let ids = page[path: "documents"]?.arrayValue?.compactMap { $0[path: "id"]?.stringValue } ?? []
        return APIPage(ids: ids, nextPageToken: page[path: "nextPageToken"]?.stringValue)
    }

    /// Polls a document until `delivery.state` is one of `states` and `delivery.attempts` is at
    /// least `attempts`, and returns it.
    @discardableResult
    func waitForState(_ target: String, _ states: String..., attempts: Int = 1, timeout: Duration = TestEnvironment.patience) async throws -> JSONValue {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var last = ""
        // The last request comes after the deadline, so a task that woke late still reads the state.
        while true {
            let response = try await send("GET", target)
            last = "\(response.status) \(response.text)"
            if response.status == 200 {
                let document = try response.json()
                if let state = document[path: "data.delivery.state"]?.stringValue, states.contains(state),
                    (document[path: "data.delivery.attempts"]?.numberValue ?? 0) >= Double(attempts)
                {
                    return document
                }
            }
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestEnvironmentError("\(target) did not reach \(states) with \(attempts) attempts within \(timeout); last response: \(last)")
    }

    func openEventStream(_ target: String) async throws -> EventStreamClient {
        var head = "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAccept: text/event-stream\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        head += "\r\n"
        let request = Array(head.utf8)
        let port = port
        return try await runOnOwnThread {
            let connection = try LoopbackConnection(port: port)
            do {
                try connection.write(request)
                return try EventStreamClient(connection: connection)
            } catch {
                connection.close()
                throw error
            }
        }
    }
}

/// One server-sent event.
struct ServerSentEvent: Sendable {
    var name: String
    var data: String
}

/// The server ended the event stream or closed the connection.
struct EventStreamEnded: Error {}

/// An open `text/event-stream` response, read one event at a time.
final class EventStreamClient: @unchecked Sendable {
    let status: Int
    let headers: [(name: String, value: String)]
    private let connection: LoopbackConnection
    // Read and changed only by the thread of one `nextEvent` call at a time.
    private var received: [UInt8]
    private var content: [UInt8] = []

    fileprivate init(connection: LoopbackConnection) throws {
        self.connection = connection
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        var received: [UInt8] = []
        while HTTPMessageParser.headEnd(received) == nil {
            do {
                let bytes = try connection.readSome()
                guard !bytes.isEmpty else { throw TestEnvironmentError("the connection closed before the response head") }
                received += bytes
            } catch is ReadTimedOut {
                guard ContinuousClock.now < deadline else { throw TestEnvironmentError("no response head within 30 s") }
            }
        }
        let (status, headers, rest) = try HTTPMessageParser.parseHead(received)
        self.status = status
        self.headers = headers
        self.received = rest
    }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Waits for the next event with a name or data; comment lines such as keep-alives are
    /// skipped.
    func nextEvent(timeout: Duration) async throws -> ServerSentEvent {
        try await runOnOwnThread { try self.readEvent(until: ContinuousClock.now.advanced(by: timeout)) }
    }

    func close() {
        connection.close()
    }

    private func readEvent(until deadline: ContinuousClock.Instant) throws -> ServerSentEvent {
        while true {
            var isEnd = false
            content += try HTTPMessageParser.takeChunks(&received, isEnd: &isEnd)
            while let blockEnd = HTTPMessageParser.find([0x0A, 0x0A], in: content) {
                let block = String(decoding: content[..<blockEnd], as: UTF8.self)
                content.removeFirst(blockEnd + 2)
                if let event = Self.event(block) { return event }
            }
            guard !isEnd else { throw EventStreamEnded() }
            guard ContinuousClock.now < deadline else { throw TestEnvironmentError("no event arrived in time") }
            do {
                let bytes = try connection.readSome()
                guard !bytes.isEmpty else { throw EventStreamEnded() }
                received += bytes
            } catch is ReadTimedOut {
                continue
            }
        }
    }

    private static func event(_ block: String) -> ServerSentEvent? {
        var name = "message"
        var data: [String] = []
        for line in block.split(separator: "\n", omittingEmptySubsequences: false) where !line.hasPrefix(":") {
            if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
            if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
        }
        return data.isEmpty ? nil : ServerSentEvent(name: name, data: data.joined(separator: "\n"))
    }
}

/// A blocking TCP connection to 127.0.0.1 whose reads give up after 1 s without data.
private final class LoopbackConnection: @unchecked Sendable {
    private let descriptor: Int32
    private let lock = NSLock()
    private var isClosed = false

    init(port: Int) throws {
        descriptor = try Self.connectedSocket(port: port)
    }

    private static func connectedSocket(port: Int) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestEnvironmentError("socket() failed: errno \(errno)") }

        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var sendTimeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))

        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let error = errno
            Glibc.close(descriptor)
            throw TestEnvironmentError("connecting to 127.0.0.1:\(port) failed: errno \(error)")
        }
        return descriptor
    }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0, errno == EINTR { continue }
            // The server may send 413 and close before it has read the whole body.
            if written < 0, errno == EPIPE || errno == ECONNRESET { return }
            guard written > 0 else { throw TestEnvironmentError("sending the request failed: errno \(errno)") }
            offset += written
        }
    }

    /// Returns the next bytes, an empty array at end of file, or throws after 1 s without data.
    func readSome() throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = Glibc.read(descriptor, &buffer, buffer.count)
            if count >= 0 { return Array(buffer[..<count]) }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw ReadTimedOut() }
            if errno == ECONNRESET { return [] }
            throw TestEnvironmentError("reading the response failed: errno \(errno)")
        }
    }

    /// Reads until the server closes the connection, for at most 30 s.
    func readToEnd() throws -> [UInt8] {
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        var received: [UInt8] = []
        while true {
            do {
                let bytes = try readSome()
                if bytes.isEmpty { return received }
                received += bytes
            } catch is ReadTimedOut {
                guard ContinuousClock.now < deadline else {
                    throw TestEnvironmentError("the response did not end within 30 s; received: \(String(decoding: received, as: UTF8.self))")
                }
            }
        }
    }

    func close() {
        let shouldClose = lock.withLock {
            defer { isClosed = true }
            return !isClosed
        }
        if shouldClose {
            Glibc.shutdown(descriptor, Int32(SHUT_RDWR))
            Glibc.close(descriptor)
        }
    }

    deinit {
        close()
    }
}

private struct ReadTimedOut: Error {}

/// Parsing of HTTP/1.1 responses as the test client receives them.
private enum HTTPMessageParser {
    static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int = 0) -> Int? {
        guard bytes.count >= needle.count + start else { return nil }
        for index in start...(bytes.count - needle.count) where bytes[index..<(index + needle.count)].elementsEqual(needle) {
            return index
        }
        return nil
    }

    /// Returns the index where the blank line that ends the head starts.
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        find(Array("\r\n\r\n".utf8), in: bytes)
    }

    static func parseHead(_ bytes: [UInt8]) throws -> (status: Int, headers: [(name: String, value: String)], rest: [UInt8]) {
        guard let end = headEnd(bytes) else { throw TestEnvironmentError("incomplete response head") }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw TestEnvironmentError("invalid status line: \(lines[0])")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return (status, headers, Array(bytes[(end + 4)...]))
    }

    /// Parses a response that has been read to the end of the connection.
    static func parseWhole(_ bytes: [UInt8]) throws -> APIResponse {
        let (status, headers, rest) = try parseHead(bytes)
        let response = APIResponse(status: status, headers: headers, body: rest)
        if response.header("Transfer-Encoding")?.lowercased() == "chunked" {
            var remaining = rest
            var isEnd = false
            let body = try takeChunks(&remaining, isEnd: &isEnd)
            guard isEnd else { throw TestEnvironmentError("the chunked body has no last chunk") }
            return APIResponse(status: status, headers: headers, body: body)
        }
        if let length = response.header("Content-Length").flatMap({ Int($0) }) {
            guard rest.count >= length else { throw TestEnvironmentError("the body has \(rest.count) of \(length) bytes") }
            return APIResponse(status: status, headers: headers, body: Array(rest[..<length]))
        }
        return response
    }

    /// Removes the complete chunks at the start of `bytes` and returns their data; sets `isEnd`
    /// at the last, empty chunk.
    static func takeChunks(_ bytes: inout [UInt8], isEnd: inout Bool) throws -> [UInt8] {
        var data: [UInt8] = []
        while let lineEnd = find([0x0D, 0x0A], in: bytes) {
            let sizeText = String(decoding: bytes[..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                throw TestEnvironmentError("invalid chunk size line: \(sizeText)")
            }
            if size == 0 {
                isEnd = true
                bytes.removeAll()
                return data
            }
            let start = lineEnd + 2
            guard bytes.count >= start + size + 2 else { break }
            data += bytes[start..<(start + size)]
            bytes.removeFirst(start + size + 2)
        }
        return data
    }
}

/// Runs blocking work on a new thread and waits for it without blocking the cooperative pool.
private func runOnOwnThread<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.start()
    }
}
