import DocumentStore

/// `q` of a listing: the documents whose recipients (`to`, `cc`, `bcc`) or `message.subject`
/// contain the text, ignoring case.
///
/// The store has no text index, so the search reads pages of 200 documents and keeps the
/// matches, reading at most 5,000 documents per request. Its page token is the store's token
/// of the page it stopped in, `~`, and the number of that page's matches already returned.
struct DocumentSearch: Sendable {
    let text: String
    let query: ListQuery

    static let pageSize = 200
    static let maxScanned = 5_000

    init(text: String, query: ListQuery) {
        self.text = text.lowercased()
        self.query = query
    }

    /// Checks the page token, so that a watch can refuse it before its stream starts.
    func validate() throws {
        _ = try parseToken(query.pageToken)
    }

    func run(_ collection: String, on store: any DocumentStore) async throws -> DocumentPage {
        var (storeToken, skip) = try parseToken(query.pageToken)
        var matches: [Document] = []
        var scanned = 0

        while scanned < Self.maxScanned {
            let page = try await store.list(
                collection, ListQuery(state: query.state, limit: Self.pageSize, pageToken: storeToken, newestFirst: query.newestFirst))
            let found = page.documents.filter(isMatch).dropFirst(skip)

            if matches.count + found.count > query.limit {
                let remaining = query.limit - matches.count
                matches += found.prefix(remaining)
                return DocumentPage(documents: matches, nextPageToken: "\(storeToken ?? "")~\(skip + remaining)")
            }
            matches += found
            skip = 0
            scanned += page.documents.count

            guard let next = page.nextPageToken else { return DocumentPage(documents: matches, nextPageToken: nil) }
            storeToken = next
            if matches.count == query.limit { break }
        }
        return DocumentPage(documents: matches, nextPageToken: "\(storeToken ?? "")~0")
    }

    private func isMatch(_ document: Document) -> Bool {
        var fields: [JSONValue?] = [document.data["to"], document.data["cc"], document.data["bcc"]]
        fields.append(document.data["message"]?[path: "subject"])
        return fields.contains { field in
            switch field {
            case .string(let value)?: value.lowercased().contains(text)
            case .array(let values)?: values.contains { $0.stringValue?.lowercased().contains(text) == true }
            default: false
            }
        }
    }

    private func parseToken(_ token: String?) throws -> (String?, Int) {
        guard let token else { return (nil, 0) }
        let parts = token.split(separator: "~", omittingEmptySubsequences: false)
        guard parts.count == 2, let skip = Int(parts[1]), skip >= 0, parts[0].isEmpty || Int64(parts[0]) != nil else {
            throw APIError.invalid("Invalid page token \"\(token)\": pass the nextPageToken of the previous page of the same search.")
        }
        return (parts[0].isEmpty ? nil : String(parts[0]), skip)
    }
}
