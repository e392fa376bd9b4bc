import DocumentStore
import Foundation
import TestSupport
import Testing

@Suite("Command line")
struct CommandLineTests {
    static let message = #"{"to": "a@example.org", "from": "shop@example.com", "message": {"subject": "Hi", "text": "Hello"}}"#

    @Test("add, get, list and count work on one store")
    func addGetListCount() async throws {
        let program = try ProgramRunner()

        let added = try await program.run(["add"], input: Self.message)
        #expect(added.status == 0)
        let id = try #require(added.lines.first)
        #expect(id.count == 20)
        #expect(id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })

        let document = try await program.document(id)
        #expect(document[path: "id"] == .string(id))
        #expect(document[path: "collection"] == "mail")
        #expect(document[path: "data.delivery.state"] == "PENDING")
        #expect(document[path: "data.message.subject"] == "Hi")

        let lines = try await program.run(["add", "--lines"], input: Self.message + "\n\n" + Self.message + "\n" + Self.message + "\n")
        #expect(lines.status == 0)
        #expect(lines.lines.count == 3)

        let custom = try await program.run(["add", "--id", "order-1042"], input: Self.message)
        #expect(custom.output == "order-1042\n")
        let duplicate = try await program.run(["add", "--id", "order-1042"], input: Self.message)
        #expect(duplicate.status == 1)
        #expect(duplicate.errors == "trigger-email: error: A document with ID order-1042 already exists in mail; choose another ID.\n")

        #expect(try await program.run(["list", "--count"]).output == "5\n")
        #expect(try await program.run(["list", "--count", "--state", "pending"]).output == "5\n")
        #expect(try await program.run(["list", "--count", "--state", "SUCCESS"]).output == "0\n")
        let listed = try await program.run(["list"])
        #expect(listed.lines.count == 5)
        #expect(listed.lines.first == "\(id)\tPENDING\t0\ta@example.org\tHi")

        let user = try await program.run(["add", "--collection", "users", "--id", "u1"], input: #"{"email": "u1@example.org"}"#)
        #expect(user.status == 0)
        let userDocument = try await program.run(["get", "--collection", "users", "u1"])
        #expect(try JSONValue(parsing: userDocument.output)[path: "data"] == ["email": "u1@example.org"])
    }

    @Test("Command-line mistakes exit non-zero with a reason")
    func mistakesAreReported() async throws {
        let program = try ProgramRunner()

        let invalidJSON = try await program.run(["add"], input: "{not json")
        #expect(invalidJSON.status == 1)
        #expect(invalidJSON.errors == "trigger-email: error: The input is not valid JSON: Invalid JSON at byte 1: expected a string as object key.\n")

        let notObject = try await program.run(["add"], input: "[1, 2]")
        #expect(notObject.status == 1)
        #expect(notObject.errors.contains("is JSON but not an object"))

        let unknownOption = try await program.run(["list", "--colour"])
        #expect(unknownOption.status == 2)
        #expect(unknownOption.errors == "trigger-email: error: Unknown option --colour. Run trigger-email list --help for its usage.\n")

        let unknownCommand = try await program.run(["sned"])
        #expect(unknownCommand.status == 2)
        #expect(unknownCommand.errors == "trigger-email: error: Unknown command \"sned\". Run trigger-email --help to list the commands.\n")

        let noDatabase = try await program.run(["list"])
        #expect(noDatabase.status == 1)
        #expect(noDatabase.errors == "trigger-email: error: There is no database file at \(program.databasePath): check DATABASE_URL, or add a document first to create it.\n")
        #expect(!FileManager.default.fileExists(atPath: program.databasePath))

        _ = try await program.run(["add"], input: Self.message)
        let missing = try await program.run(["get", "nope"])
        #expect(missing.status == 1)
        #expect(missing.errors == "trigger-email: error: No document with ID nope in mail.\n")

        let badState = try await program.run(["list", "--state", "DONE"])
        #expect(badState.status == 2)
        #expect(badState.errors.contains("--state DONE is not one of PENDING, PROCESSING, SUCCESS, ERROR, RETRY."))

        let badLease = try await ProgramRunner(environment: ["LEASE_SECONDS": "0"]).run(["list"])
        #expect(badLease.status == 1)
        #expect(badLease.errors == "trigger-email: error: Invalid LEASE_SECONDS: \"0\" is not a whole number greater than 0.\n")

        let sendWithoutSender = try await program.run(["send", "--to", "a@example.org", "--subject", "S", "--text", "T"])
        #expect(sendWithoutSender.status == 2)
        #expect(sendWithoutSender.errors == "trigger-email: error: No sender: pass --from ADDRESS or set DEFAULT_FROM. Run trigger-email send --help for its usage.\n")

        let badAddress = try await program.run(["send", "--to", "not an address", "--from", "shop@example.com", "--subject", "S", "--text", "T"])
        #expect(badAddress.status == 2)
        #expect(badAddress.errors == "trigger-email: error: Field 'to' holds an invalid email address \"not an address\": it has no @. Run trigger-email send --help for its usage.\n")

        let notAFolder = program.directory.appendingPathComponent("file-not-folder")
        _ = FileManager.default.createFile(atPath: notAFolder.path, contents: Data("x".utf8))
        let badOutbox = try await ProgramRunner(environment: ["OUTBOX_DIR": notAFolder.path]).run(["serve"])
        #expect(badOutbox.status == 1)
        #expect(badOutbox.errors.hasSuffix("trigger-email: error: Cannot create the outbox folder \(notAFolder.path): A file with the same name already exists; set OUTBOX_DIR to a folder this user may write to.\n"))

        let noCommand = try await program.run([])
        #expect(noCommand.status == 2)
        #expect(noCommand.output.isEmpty)
        #expect(noCommand.errors.hasPrefix("trigger-email: turns JSON mail documents"))

        let sendWithoutBody = try await program.run(["send", "--to", "a@example.org", "--from", "shop@example.com", "--subject", "S"])
        #expect(sendWithoutBody.status == 2)
        #expect(sendWithoutBody.errors.contains("The message has neither text nor html: set message.text, message.html or both."))
    }

    @Test("Every command has help")
    func helpForEveryCommand() async throws {
        let program = try ProgramRunner()
        let general = try await program.run(["--help"])
        #expect(general.status == 0)
        for command in ["serve", "worker", "add", "get", "list", "retry", "send"] {
            #expect(general.output.contains("\n  \(command) "))
            let help = try await program.run([command, "--help"])
            #expect(help.status == 0)
            #expect(help.output.hasPrefix("Usage: trigger-email \(command)"))
            #expect(help.output.contains("--smtp-connection-uri VALUE"))
        }
    }

    @Test("serve picks up documents added by another process")
    func serveDeliversDocumentsFromAnotherProcess() async throws {
        let server = try await SMTPTestServer.start()
        let program = try ProgramRunner(environment: ["SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(server.port)", "DEFAULT_FROM": "Shop <shop@example.com>"])
        let serve = try program.start(["serve"])
        try await serve.waitForErrorOutput(timeout: TestEnvironment.patience) { $0.contains("processor started") }

        let sent = try await program.run(["send", "--to", "a@example.org", "--subject", "Привет", "--text", "Текст", "--wait", "--timeout", "30"])
        #expect(sent.status == 0)
        let id = try #require(sent.lines.first)
        let delivery = try JSONValue(parsing: sent.lines.dropFirst().joined(separator: "\n"))
        #expect(delivery[path: "state"] == "SUCCESS")

        let added = try await program.run(["add"], input: Self.message)
        let addedID = try #require(added.lines.first)
        let document = try await program.waitForState(addedID, ["SUCCESS"])
        #expect(document[path: "data.delivery.attempts"] == 1)

        let received = try await server.waitForMessages(2)
        #expect(received.first?[path: "parsed.subject"] == "Привет")
        #expect(received.first?[path: "parsed.from"] == "Shop <shop@example.com>")

        let retried = try await program.run(["retry", id])
        #expect(retried.output == "\(id)\tRETRY\n")
        let again = try await program.waitForState(id, ["SUCCESS"])
        #expect(again[path: "data.delivery.attempts"] == 2)
        #expect(try await server.waitForMessages(3).count == 3)

        serve.terminate()
        #expect(try await serve.waitForExit() == 0)
        #expect(serve.standardError.contains("stopping signal=SIGTERM"))
        #expect(serve.standardError.contains("processor stopped"))
    }

    @Test("Stopping returns unsent claims to PENDING")
    func stopReleasesUnsentClaims() async throws {
        // The server delays its reply to the first message's data until released. With one
        // connection the worker then has that message on the wire, at most one more whose
        // commands followed its data, and the rest of its claimed documents waiting.
        let server = try await SMTPTestServer.start(.init(holdsData: true))
        let program = try ProgramRunner(environment: ["DEFAULT_FROM": "shop@example.com"])
        var ids: [String] = []
        for _ in 0..<6 {
            ids.append(try #require(try await program.run(["add"], input: Self.message).lines.first))
        }
        let smtp = ["SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(server.port)", "SMTP_POOL_SIZE": "1"]
        let worker = try program.start(["worker"], environment: smtp)

        for id in ids {
            _ = try await program.waitForState(id, ["PROCESSING"])
        }
        let deadline = ContinuousClock.now.advanced(by: TestEnvironment.patience)
        while server.dataReceivedCount == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(server.dataReceivedCount == 1)

        worker.terminate()
        // The waiting documents go back before the server replies to the first message's data.
        _ = try await program.waitForState(try #require(ids.last), ["PENDING"])
        try server.releaseData()
        #expect(try await worker.waitForExit() == 0)
        #expect(worker.standardError.contains("claim released because the message was not sent before stopping"))

        var sent = 0
        for id in ids {
            let document = try await program.waitForState(id, ["SUCCESS", "PENDING"])
            if document[path: "data.delivery.state"] == "SUCCESS" {
                sent += 1
                continue
            }
            #expect(document[path: "data.delivery.attempts"] == 0)
            #expect(document[path: "data.delivery.leaseExpireTime"] == .null)
        }
        #expect((1...2).contains(sent), "\(sent) documents were sent before the stop")

        // The next worker sends the released documents, and each message reaches the server once.
        let next = try program.start(["worker"], environment: smtp)
        for id in ids {
            let delivered = try await program.waitForState(id, ["SUCCESS"])
            #expect(delivered[path: "data.delivery.attempts"] == 1)
        }
        #expect(try await server.waitForMessages(6).count == 6)
        next.terminate()
        try await next.waitForExit()
    }

    @Test("Killed worker's attempt ends by lease expiry")
    func killedWorkerLeaseExpires() async throws {
        // The server never replies to the message data, so the attempt lasts until the kill.
        let slowServer = try await SMTPTestServer.start(.init(holdsData: true))
        // The live worker renews the lease every third of it. A short lease expired once while
        // a loaded machine kept the worker from renewing, so the lease is long enough for that.
        let program = try ProgramRunner(environment: ["LEASE_SECONDS": "15", "DEFAULT_FROM": "shop@example.com"])
        let doomed = try program.start(["worker"], environment: ["SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(slowServer.port)"])

        let added = try await program.run(["add"], input: Self.message)
        let id = try #require(added.lines.first)
        do {
            _ = try await program.waitForState(id, ["PROCESSING"])
        } catch {
            throw TestEnvironmentError("\(error); the worker's log:\n\(doomed.standardError)")
        }
        let deadline = ContinuousClock.now.advanced(by: TestEnvironment.patience)
        while !slowServer.log.contains("DATA received"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(slowServer.log.contains("DATA received"))

        let refused = try await program.run(["retry", id])
        #expect(refused.status == 1)
        #expect(refused.errors == "trigger-email: error: \(id) is being sent right now (PROCESSING); retry it once it ends in SUCCESS or ERROR.\n")

        doomed.kill()
        try await doomed.waitForExit()

        let healthyServer = try await SMTPTestServer.start()
        let survivor = try program.start(["worker"], environment: ["SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(healthyServer.port)"])
        let expired = try await program.waitForState(id, ["ERROR"])
        #expect(expired[path: "data.delivery.error"] == "Message processing lease expired.")
        #expect(expired[path: "data.delivery.attempts"] == 1)
        #expect(expired[path: "data.delivery.leaseExpireTime"] == .null)
        #expect(try slowServer.receivedMessages().isEmpty)
        #expect(try healthyServer.receivedMessages().isEmpty)

        let retried = try await program.run(["retry", id])
        #expect(retried.status == 0)
        let delivered = try await program.waitForState(id, ["SUCCESS"])
        #expect(delivered[path: "data.delivery.attempts"] == 2)
        #expect(try await healthyServer.waitForMessages(1).count == 1)

        survivor.terminate()
        try await survivor.waitForExit()
    }
}
