import DocumentStore
import Foundation
import TriggerEmail

/// `send`: builds a mail document from flags and adds it.
enum SendCommand {
    static let command = TriggerEmailCommand.Command(
        name: "send",
        summary: "Compose a mail document from flags, add it to the mail collection and print its ID.",
        usage: """
            trigger-email send --to ADDRESS --subject TEXT (--text TEXT | --html HTML) [OPTIONS]

              --to, --cc, --bcc ADDRESS   a recipient; repeat the flag for more
              --subject TEXT              the subject
              --text TEXT                 the plain-text body
              --html HTML                 the HTML body
              --from ADDRESS              the sender (default: DEFAULT_FROM)
              --reply-to ADDRESS          the Reply-To address (default: DEFAULT_REPLY_TO)
              --wait                      wait until the delivery ends and print the delivery
                                          record; exit status 1 when it ends in ERROR
              --timeout SECONDS           how long --wait waits at most (default 120)
            """,
        valueOptions: ["to", "cc", "bcc", "subject", "text", "html", "from", "reply-to", "timeout"],
        flagOptions: ["wait"]
    ) { arguments in
        try await run(arguments)
    }

    static func run(_ arguments: Arguments) async throws -> Int32 {
        guard arguments.positional.isEmpty else {
            throw UsageError("send takes only options, but got \(arguments.positional.joined(separator: " ")).")
        }
        var timeout = 120.0
        if let text = arguments.value("timeout") {
            guard let seconds = Double(text), seconds > 0 else { throw UsageError("--timeout must be a number of seconds greater than 0.") }
            timeout = seconds
        }

        let fields = document(from: arguments)
        let configuration = try Settings.configuration(arguments)
        guard fields["from"] != nil || configuration.defaultFrom != nil else {
            throw UsageError("No sender: pass --from ADDRESS or set DEFAULT_FROM.")
        }
        do {
            let mail = try MailDocument(fields: fields)
            try mail.checkComposable(defaultFrom: configuration.defaultFrom, defaultReplyTo: configuration.defaultReplyTo)
        } catch {
            throw UsageError(error.message)
        }
        let store = try await Settings.openStore(configuration)
        let queue = MailQueue(store: store, mailCollection: configuration.mailCollection)

        let status: Int32
        do {
            let added = try await queue.add(fields)
            print(added.id)
            status = arguments.has("wait") ? try await wait(for: added.id, in: store, collection: configuration.mailCollection, timeout: timeout) : 0
        } catch {
            await store.close()
            throw error
        }
        await store.close()
        return status
    }

    private static func document(from arguments: Arguments) -> JSONObject {
        var fields: JSONObject = [:]
        for field in ["to", "cc", "bcc"] where !arguments.values(field).isEmpty {
            fields[field] = .array(arguments.values(field).map(JSONValue.string))
        }
        if let from = arguments.value("from") { fields["from"] = .string(from) }
        if let replyTo = arguments.value("reply-to") { fields["replyTo"] = .string(replyTo) }

        var message: JSONObject = [:]
        if let subject = arguments.value("subject") { message["subject"] = .string(subject) }
        if let text = arguments.value("text") { message["text"] = .string(text) }
        if let html = arguments.value("html") { message["html"] = .string(html) }
        if !message.isEmpty { fields["message"] = .object(message) }
        return fields
    }

    /// Waits for SUCCESS or ERROR, printing the delivery record; a running `serve` or `worker`
    /// does the sending.
    private static func wait(for id: String, in store: any DocumentStore, collection: String, timeout: Double) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let seen = store.changeCount
            if let document = try await store.get(id, from: collection),
                let delivery = document.data["delivery"],
                let state = delivery[path: "state"]?.stringValue,
                state == DeliveryState.success.rawValue || state == DeliveryState.error.rawValue
            {
                print(delivery.prettySerialized())
                return state == DeliveryState.success.rawValue ? 0 : 1
            }
            await store.waitForChange(after: seen, timeout: .milliseconds(500))
        }
        throw CommandError(
            "Document \(id) did not finish within \(JSONValue.formatNumber(timeout)) seconds; is trigger-email serve running? Check it later with trigger-email get \(id).")
    }
}
