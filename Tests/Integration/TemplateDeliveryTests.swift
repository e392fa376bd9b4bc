import DocumentStore
import Foundation
import TestSupport
import Testing
import TriggerEmail

@Suite("Templates end to end")
struct TemplateDeliveryTests {
    static let welcome = #"""
        {
          "subject": "Welcome, {{name}} & friends",
          "text": "Hello {{name}},\n{{#each items}}- {{this}}\n{{/each}}{{> footer}}",
          "html": "<p>Hello {{name}}</p><ul>{{#each items}}<li>{{this}}</li>{{/each}}</ul>{{> footer}}",
          "attachments": [{"filename": "order-{{order}}.txt", "content": "Order {{order}} for {{name}}"}]
        }
        """#
    static let footer = #"{"partial": true, "text": "-- \n{{company}}", "html": "<footer>{{company}}</footer>"}"#

    @Test("template with a partial and an attachment reaches a UID")
    func templateReachesUID() async throws {
        let server = try await SMTPTestServer.start()
        let program = try ProgramRunner(environment: [
            "SMTP_CONNECTION_URI": "smtp://127.0.0.1:\(server.port)", "DEFAULT_FROM": "shop@example.com",
            "TEMPLATES_COLLECTION": "templates", "USERS_COLLECTION": "users",
        ])
        #expect(try await program.run(["templates", "set", "welcome", "-"], input: Self.welcome).status == 0)
        #expect(try await program.run(["templates", "set", "footer", "-"], input: Self.footer).status == 0)
        #expect(try await program.run(["add", "--collection", "users", "--id", "ada"], input: #"{"email": "ada@example.org"}"#).status == 0)

        let listed = try await program.run(["templates", "list"])
        #expect(listed.lines.sorted() == ["footer\tpartial\ttext,html", "welcome\ttemplate\tsubject,text,html,attachments"])

        let serve = try program.start(["serve"])
        try await serve.waitForErrorOutput(timeout: TestEnvironment.patience) { $0.contains("processor started") }

        let mail = #"""
            {"toUids": ["ada"], "template": {"name": "welcome", "data":
              {"name": "Ада <A>", "items": ["tea", "cake"], "company": "Café & Co", "order": 42}}}
            """#
        let first = try await program.run(["add"], input: mail)
        let firstDocument = try await program.waitForState(first.output.trimmingCharacters(in: .whitespacesAndNewlines), ["SUCCESS", "ERROR"])
        #expect(firstDocument[path: "data.delivery.state"] == "SUCCESS", "\(firstDocument.serialized())")

        let received = try #require(try await server.waitForMessages(1).first)
        #expect(received[path: "rcpt_tos"] == ["ada@example.org"])
        #expect(received[path: "parsed.subject"] == "Welcome, Ада <A> & friends")
        let parts = try #require(received[path: "parsed.parts"]?.arrayValue)
        #expect(parts.map { $0[path: "content_type"]?.stringValue } == ["text/plain", "text/html", "text/plain"])
        #expect(parts[0][path: "content"] == "Hello Ада <A>,\r\n- tea\r\n- cake\r\n-- \r\nCafé & Co")
        #expect(parts[1][path: "content"] == "<p>Hello Ада &lt;A&gt;</p><ul><li>tea</li><li>cake</li></ul><footer>Café &amp; Co</footer>")
        #expect(parts[2][path: "filename"] == "order-42.txt")
        #expect(parts[2][path: "content"] == "Order 42 for Ада <A>")

        let changed = Self.welcome.replacingOccurrences(of: "Welcome, {{name}} & friends", with: "Still here, {{name}}?")
        #expect(try await program.run(["templates", "set", "welcome", "-"], input: changed).status == 0)
        let second = try await program.run(["add"], input: mail)
        _ = try await program.waitForState(second.output.trimmingCharacters(in: .whitespacesAndNewlines), ["SUCCESS", "ERROR"])

        let messages = try await server.waitForMessages(2)
        #expect(messages.count == 2)
        #expect(messages.last?[path: "parsed.subject"] == "Still here, Ада <A>?")

        serve.terminate()
        try await serve.waitForExit()
    }

    @Test("template faults end in ERROR")
    func templateFaults() async throws {
        let server = try await SMTPTestServer.start()
        let settings = MailProcessor.Settings(usersCollection: "users", templatesCollection: "templates", defaultFrom: "shop@example.com")
        let harness = try await DeliveryHarness.sending(to: server, settings: settings)
        _ = try await harness.store.set(["subject": "Hi {{#if}}", "text": "x"], id: "broken", in: "templates")
        _ = try await harness.store.set(["subject": "Hi", "text": "x {{> missing}}"], id: "orphan", in: "templates")
        _ = try await harness.store.set(["html": "<p>only html</p>"], id: "nosubject", in: "templates")
        _ = try await harness.store.set(["subject": 5], id: "wrongtype", in: "templates")
        _ = try await harness.store.set(["email": "ada@example.org"], id: "ada", in: "users")
        _ = try await harness.store.set(["email": "not an address"], id: "bad", in: "users")
        _ = try await harness.store.set(["partial": "yes", "text": "P"], id: "brokenpartial", in: "templates")
        _ = try await harness.store.set(["subject": "D", "text": #"{{> (lookup . "p")}}"#], id: "dynamic", in: "templates")
        _ = try await harness.store.set(["partial": true, "text": "footer text"], id: "footer", in: "templates")
        _ = try await harness.store.set(["subject": "{{v}}", "text": "t"], id: "bell", in: "templates")

        let cases: [(JSONObject, String)] = [
            (["to": "a@example.org", "template": ["name": "absent"]],
             "Template 'absent' is not found in the templates collection 'templates': add it, for example with `trigger-email templates set absent FILE`."),
            (["to": "a@example.org", "template": ["name": "broken"]],
             #"Template "broken.subject" has a syntax error at line 1, column 4: {{#if}} requires exactly one argument."#),
            (["to": "a@example.org", "template": ["name": "orphan"]],
             #"Template "orphan.text" could not be rendered: the partial "missing" is not found. A partial is a document 'missing' in the templates collection 'templates' with partial: true and a 'text' field."#),
            (["to": "a@example.org", "template": ["name": "nosubject"]],
             "Field 'message.subject' is missing: every message needs a subject. Neither the template 'nosubject' nor the document's message sets it."),
            (["to": "a@example.org", "template": ["name": "wrongtype"]],
             "Template 'wrongtype' has a field 'subject' that must be a string, but it is a number."),
            (["to": "a@example.org", "template": ["name": "dynamic", "data": ["p": "brokenpartial"]]],
             #"Template "dynamic.text" could not be rendered: the partial "brokenpartial" is not found. A partial is a document 'brokenpartial' in the templates collection 'templates' with partial: true and a 'text' field."#),
            (["to": "a@example.org", "template": ["name": "bell", "data": ["v": "ring\u{07}"]]],
             "Field 'message.subject' contains the control character U+0007; remove it. The message was rendered from the template 'bell' and the document's message."),
            (["to": "a@example.org", "template": ["name": "../etc"]],
             #"Field 'template.name' is "../etc", which cannot name a template: template names use 1 to 128 letters, digits, '-' or '_'."#),
            (["toUids": ["ghost", "users/ada"], "template": ["name": "nosubject"]],
             #"No recipient is left: the users "ghost", "users/ada" were not found in users or have no email field with a string."#),
            (["toUids": ["bad"], "template": ["name": "nosubject"]],
             #"User "bad" in users has an invalid email address "not an address": it has no @; correct the user's email field."#),
        ]

        var ids: [String] = []
        for (fields, _) in cases {
            ids.append(try await harness.add(fields))
        }
        let dynamic = try await harness.add(["to": "b@example.org", "template": ["name": "dynamic", "data": ["p": "footer"]]])
        // The template's subject wins over the message's, and the message's text stays.
        let merged = try await harness.add([
            "toUids": ["ada", "ghost"], "message": ["subject": "from the message", "text": "message text"],
            "template": ["name": "nosubject"],
        ])

        for (id, (_, expected)) in zip(ids, cases) {
            let delivery = try #require(try await harness.waitForState(id)["delivery"])
            #expect(delivery[path: "state"] == "ERROR")
            #expect(delivery[path: "error"] == .string(expected))
        }
        #expect(try await harness.waitForState(dynamic)["delivery"]?[path: "state"] == "SUCCESS")
        #expect(try await harness.waitForState(merged)["delivery"]?[path: "state"] == "SUCCESS")
        let messages = try await server.waitForMessages(2)
        let received = try #require(messages.first { $0[path: "parsed.subject"] == "from the message" })
        #expect(messages.contains { $0[path: "parsed.subject"] == "D" })
        let parts = try #require(received[path: "parsed.parts"]?.arrayValue)
        #expect(parts.map { $0[path: "content"]?.stringValue } == ["message text", "<p>only html</p>"])
        let missingUsers = harness.logs.records.filter { $0.message == "users not found or without an email address" }
        #expect(missingUsers.contains { $0.metadata["users.ids"] == "ghost" })
        await harness.stop()
    }

    @Test("templates set rejects a syntax error")
    func setRejectsSyntaxError() async throws {
        let program = try ProgramRunner(environment: ["TEMPLATES_COLLECTION": "templates"])

        let result = try await program.run(["templates", "set", "bad", "-"], input: #"{"html": "<p>{{#each items}}</p>"}"#)
        #expect(result.status == 1)
        #expect(result.errors == "trigger-email: error: Template \"bad.html\" has a syntax error at line 1, column 4: {{#each}} is never closed.\n")

        let badPartial = try await program.run(["templates", "set", "bad", "-"], input: #"{"text": "{{> подвал}}"}"#)
        #expect(badPartial.status == 1)
        #expect(badPartial.errors.contains(#"includes the partial "подвал", which cannot be a template's name"#))

        let folder = try await program.run(["templates", "set", "bad", program.directory.path])
        #expect(folder.status == 1)
        #expect(folder.errors == "trigger-email: error: Cannot read \(program.directory.path): it is a folder; name a JSON file.\n")

        let unconfigured = try ProgramRunner()
        let missing = try await unconfigured.run(["templates", "list"])
        #expect(missing.status == 2)
        #expect(missing.errors.contains("No templates collection is configured: set TEMPLATES_COLLECTION"))
    }
}
