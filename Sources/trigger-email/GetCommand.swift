import DocumentStore
import TriggerEmail

/// `get`: prints one document as JSON.
enum GetCommand {
    static let command = TriggerEmailCommand.Command(
        name: "get",
        summary: "Print the document with this ID as JSON.",
        usage: """
            trigger-email get [--collection C] ID

              --collection C   collection to read from (default: MAIL_COLLECTION, which is mail)
            """,
        valueOptions: ["collection"], flagOptions: []
    ) { arguments in
        guard arguments.positional.count == 1 else {
            throw UsageError("get takes exactly one document ID.")
        }
        let id = arguments.positional[0]
        let configuration = try Settings.configuration(arguments)
        let collection = arguments.value("collection") ?? configuration.mailCollection

        let store = try await Settings.openStore(configuration, create: false)
        let document = try await store.get(id, from: collection)
        await store.close()

        guard let document else {
            throw CommandError("No document with ID \(id) in \(collection).")
        }
        print(document.jsonValue.prettySerialized())
        return 0
    }
}
