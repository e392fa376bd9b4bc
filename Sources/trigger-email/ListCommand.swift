import DocumentStore
import TriggerEmail

/// `list`: prints documents a line each, or their number.
enum ListCommand {
    static let command = TriggerEmailCommand.Command(
        name: "list",
        summary: "List documents, oldest first: ID, delivery state, attempts, recipients and subject.",
        usage: """
            trigger-email list [--collection C] [--state S] [--count] [--limit N] [--json]

              --collection C   collection to list (default: MAIL_COLLECTION, which is mail)
              --state S        only documents whose delivery.state is S (PENDING, PROCESSING,
                               SUCCESS, ERROR or RETRY)
              --count          print only the number of documents
              --limit N        print at most N documents (default 100)
              --json           print each document as one line of JSON
            """,
        valueOptions: ["collection", "state", "limit"], flagOptions: ["count", "json"]
    ) { arguments in
        try await run(arguments)
    }

    static func run(_ arguments: Arguments) async throws -> Int32 {
        guard arguments.positional.isEmpty else {
            throw UsageError("list takes no arguments, but got \(arguments.positional.joined(separator: " ")).")
        }
        let state = try arguments.value("state").map { (text: String) throws -> String in
            guard let state = DeliveryState(rawValue: text.uppercased()) else {
                throw UsageError("--state \(text) is not one of PENDING, PROCESSING, SUCCESS, ERROR, RETRY.")
            }
            return state.rawValue
        }
        var limit = 100
        if let text = arguments.value("limit") {
            guard let number = Int(text), number > 0 else { throw UsageError("--limit must be a whole number greater than 0.") }
            limit = number
        }

        let configuration = try Settings.configuration(arguments)
        let collection = arguments.value("collection") ?? configuration.mailCollection
        let store = try await Settings.openStore(configuration, create: false)

        do {
            if arguments.has("count") {
                print(try await store.count(collection, state: state))
            } else {
                try await printDocuments(store, collection: collection, state: state, limit: limit, asJSON: arguments.has("json"))
            }
        } catch {
            await store.close()
            throw error
        }
        await store.close()
        return 0
    }

    private static func printDocuments(_ store: any DocumentStore, collection: String, state: String?, limit: Int, asJSON: Bool) async throws {
        var printed = 0
        var pageToken: String?
        repeat {
            let page = try await store.list(collection, ListQuery(state: state, limit: min(1000, limit - printed), pageToken: pageToken))
            for document in page.documents {
                print(asJSON ? document.jsonValue.serialized() : summaryLine(document))
            }
            printed += page.documents.count
            pageToken = page.nextPageToken
        } while pageToken != nil && printed < limit
    }

    private static func summaryLine(_ document: Document) -> String {
        let delivery = document.data["delivery"]
        let state = delivery?[path: "state"]?.stringValue ?? "-"
        let attempts = delivery?[path: "attempts"]?.numberValue.map { JSONValue.formatNumber($0) } ?? "-"
        let recipients = ["to", "cc", "bcc"].compactMap { field -> String? in
            switch document.data[field] {
            case .string(let text)?: return text
            case .array(let values)?: return values.compactMap(\.stringValue).joined(separator: ",")
            default: return nil
            }
        }.filter { !$0.isEmpty }.joined(separator: ",")
        var subject = document.data["message"]?[path: "subject"]?.stringValue ?? ""
        if subject.isEmpty, let templateName = document.data["template"]?[path: "name"]?.stringValue {
            subject = "(template \(templateName))"
        }
        let fields = [document.id, state, attempts, recipients.isEmpty ? "-" : recipients, subject]
        return fields.map(printable).joined(separator: "\t")
    }

    /// Escapes control characters (tabs and line breaks included) so that each document stays
    /// on one line of tab-separated fields and no terminal escape sequence gets through.
    private static func printable(_ text: String) -> String {
        var output = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0) {
                output += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                output.unicodeScalars.append(scalar)
            }
        }
        return output
    }
}
