import DocumentStore
import TriggerEmail

/// `templates`: writes and lists the documents of the templates collection.
enum TemplatesCommand {
    static let command = TriggerEmailCommand.Command(
        name: "templates",
        summary: "Write a template from a JSON file (templates set NAME FILE), or list them (templates list).",
        usage: """
            trigger-email templates set [--collection C] NAME FILE
            trigger-email templates list [--collection C]

              set NAME FILE    write the JSON object in FILE (- for standard input) as the
                               template NAME, replacing any template of that name; its fields
                               are subject, text, html, amp, attachments and partial, and every
                               source must compile
              list             print each template's name, kind (template or partial) and
                               fields, one per line
              --collection C   templates collection (default: TEMPLATES_COLLECTION)
            """,
        valueOptions: ["collection"], flagOptions: []
    ) { arguments in
        switch arguments.positional.first {
        case "set": return try await set(arguments)
        case "list": return try await list(arguments)
        case let other?: throw UsageError("templates has no subcommand \"\(other)\"; use set or list.")
        case nil: throw UsageError("templates needs a subcommand: set or list.")
        }
    }

    private static func collection(_ arguments: Arguments, _ configuration: Configuration) throws -> String {
        guard let collection = arguments.value("collection") ?? configuration.templatesCollection else {
            throw UsageError("No templates collection is configured: set TEMPLATES_COLLECTION (as the service has it) or pass --collection.")
        }
        return collection
    }

    private static func set(_ arguments: Arguments) async throws -> Int32 {
        guard arguments.positional.count == 3 else {
            throw UsageError("templates set takes a NAME and a FILE.")
        }
        let name = arguments.positional[1]
        let configuration = try Settings.configuration(arguments)
        let collection = try collection(arguments, configuration)

        let input = try AddCommand.readInput(arguments.positional[2])
        let fields = try AddCommand.parseDocuments(input, oneLineEach: false)[0]
        try checkTemplateDocument(name: name, fields: fields)

        let store = try await Settings.openStore(configuration)
        do {
            _ = try await store.set(fields, id: name, in: collection)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
        print(name)
        return 0
    }

    private static func list(_ arguments: Arguments) async throws -> Int32 {
        guard arguments.positional.count == 1 else {
            throw UsageError("templates list takes no arguments.")
        }
        let configuration = try Settings.configuration(arguments)
        let collection = try collection(arguments, configuration)

        let store = try await Settings.openStore(configuration, create: false)
        do {
            var pageToken: String?
            repeat {
                let page = try await store.list(collection, ListQuery(limit: 1000, pageToken: pageToken))
                for document in page.documents {
                    print(summaryLine(document))
                }
                pageToken = page.nextPageToken
            } while pageToken != nil
        } catch {
            await store.close()
            throw error
        }
        await store.close()
        return 0
    }

    private static func summaryLine(_ document: Document) -> String {
        let kind = document.data["partial"] == .bool(true) ? "partial" : "template"
        let fields = ["subject", "text", "html", "amp", "attachments"].filter { field in
            document.data[field].map { !$0.isNull } ?? false
        }
        return [document.id, kind, fields.isEmpty ? "-" : fields.joined(separator: ",")].joined(separator: "\t")
    }
}
