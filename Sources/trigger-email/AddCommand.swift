import DocumentStore
import Foundation
import TriggerEmail

/// `add`: writes JSON documents from a file or standard input.
enum AddCommand {
    static let command = TriggerEmailCommand.Command(
        name: "add",
        summary: "Add a JSON document from FILE (or standard input) and print its ID.",
        usage: """
            trigger-email add [--collection C] [--id ID] [--lines] [FILE]

              --collection C   collection to add to (default: MAIL_COLLECTION, which is mail)
              --id ID          write the document under this ID instead of a random one
              --lines          read one JSON document per line and add them all in one
                               transaction, printing one ID per line
            """,
        valueOptions: ["collection", "id"], flagOptions: ["lines"]
    ) { arguments in
        try await run(arguments)
    }

    static func run(_ arguments: Arguments) async throws -> Int32 {
        guard arguments.positional.count <= 1 else {
            throw UsageError("add takes at most one FILE, but got \(arguments.positional.count).")
        }
        if arguments.has("lines"), arguments.value("id") != nil {
            throw UsageError("--id cannot be combined with --lines, because each line gets its own ID.")
        }

        let configuration = try Settings.configuration(arguments)
        let collection = arguments.value("collection") ?? configuration.mailCollection
        let input = try readInput(arguments.positional.first)
        let documents = try parseDocuments(input, oneLineEach: arguments.has("lines"))

        let store = try await Settings.openStore(configuration)
        let queue = MailQueue(store: store, mailCollection: configuration.mailCollection)
        let added: [Document]
        do {
            if arguments.has("lines") {
                added = try await queue.addBatch(documents, to: collection)
            } else {
                added = [try await queue.add(documents[0], to: collection, id: arguments.value("id"))]
            }
        } catch {
            await store.close()
            throw error
        }
        await store.close()

        for document in added {
            print(document.id)
        }
        return 0
    }

    static func readInput(_ path: String?) throws -> [UInt8] {
        guard let path, path != "-" else {
            return Array(FileHandle.standardInput.readDataToEndOfFile())
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw CommandError("Cannot read \(path): it is a folder; name a JSON file.")
        }
        // A FileHandle also reads pipes and devices such as /dev/stdin or <(...).
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CommandError("Cannot read \(path): the file does not exist or is not readable.")
        }
        defer { try? handle.close() }
        return Array(handle.readDataToEndOfFile())
    }

    static func parseDocuments(_ input: [UInt8], oneLineEach: Bool) throws -> [JSONObject] {
        let chunks: [ArraySlice<UInt8>] = oneLineEach ? input.split(separator: 0x0A) : [input[...]]

        var documents: [JSONObject] = []
        for (index, chunk) in chunks.enumerated() {
            let place = oneLineEach ? "line \(index + 1)" : "the input"
            if oneLineEach, chunk.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            do {
                guard let object = try JSONValue(parsing: Array(chunk)).objectValue else {
                    throw CommandError("\(place.prefix(1).uppercased() + place.dropFirst()) is JSON but not an object; a document is a JSON object such as {\"to\": \"...\"}.")
                }
                documents.append(object)
            } catch let error as JSONSyntaxError {
                throw CommandError("\(place.prefix(1).uppercased() + place.dropFirst()) is not valid JSON: \(error)")
            }
        }
        guard !documents.isEmpty else {
            throw CommandError("The input contains no document; give a JSON object in FILE or on standard input.")
        }
        return documents
    }
}
