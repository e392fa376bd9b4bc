import DocumentStore
import Foundation
import TriggerEmail

/// The REST API under `/v1`: documents of any collection, with the mail collection's rules.
///
/// A document in the mail collection starts as `PENDING` when it is added, and keeps its
/// `delivery` record when it is replaced without one. It cannot leave `PROCESSING` through the
/// API, because the attempt under way could still deliver it and a second attempt would send it
/// twice.
struct DocumentAPI: Sendable {
    let store: any DocumentStore
    let queue: MailQueue
    let watches: WatchRegistry

    var mailCollection: String { queue.mailCollection }

    func handle(_ request: HTTPRequest, segments: [Substring]) async throws -> HTTPResponse {
        switch segments.count {
        case 1:
            let (collection, action) = Self.splitAction(segments[0])
            try DocumentID.validateCollection(collection)
            if let action { return try await collectionAction(action, collection: collection, request: request) }
            return try await collectionRequest(request, collection: collection)
        case 2:
            let collection = String(segments[0])
            let (id, action) = Self.splitAction(segments[1])
            try DocumentID.validateCollection(collection)
            try DocumentID.validate(id)
            if let action { return try await documentAction(action, id: id, collection: collection, request: request) }
            return try await documentRequest(request, id: id, collection: collection)
        default:
            throw APIError.notFound(request.path)
        }
    }

    /// Splits `name:action` (a custom method, as in `mail:retryErrors`) into its two parts.
    private static func splitAction(_ segment: Substring) -> (String, String?) {
        guard let colon = segment.firstIndex(of: ":") else { return (String(segment), nil) }
        return (String(segment[..<colon]), String(segment[segment.index(after: colon)...]))
    }

    // MARK: - Collections

    private func collectionRequest(_ request: HTTPRequest, collection: String) async throws -> HTTPResponse {
        switch request.method {
        case "POST":
            let fields = try Self.objectBody(request)
            let document = try await queue.add(fields, to: collection)
            var response = HTTPResponse.json(Self.json(document), status: 201)
            response.headers.append(("Location", "/v1/\(collection)/\(document.id)"))
            return response
        case "GET":
            let query = try Self.listQuery(request.query)
            let search = request.query["q"].flatMap { $0.isEmpty ? nil : DocumentSearch(text: $0, query: query) }
            try search?.validate()
            let mask = try FieldMask(parsing: request.query["fields"])
            let list: @Sendable () async throws -> DocumentPage = { [store] in
                if let search { return try await search.run(collection, on: store) }
                return try await store.list(collection, query)
            }
            if try Self.isWatch(request.query) {
                return watches.stream { Self.json(try await list(), mask: mask) }
            }
            return .json(Self.json(try await list(), mask: mask))
        default:
            throw APIError.methodNotAllowed(request.method, request.path, allowed: ["GET", "POST"])
        }
    }

    private func collectionAction(_ action: String, collection: String, request: HTTPRequest) async throws -> HTTPResponse {
        guard action == "retryErrors" else {
            throw APIError.notFound(request.path)
        }
        guard request.method == "POST" else {
            throw APIError.methodNotAllowed(request.method, request.path, allowed: ["POST"])
        }
        guard collection == mailCollection else {
            throw APIError.invalid("Only documents of the mail collection \(mailCollection) can be retried.")
        }

        // The listing goes by sequence number, which an update does not change, so each
        // document is retried once, even if it fails again and returns to ERROR meanwhile. A
        // document that cannot be read stays in ERROR until it is corrected with SQL.
        var retried = 0
        var unreadable = 0
        var token: String?
        repeat {
            let page = try await store.list(collection, ListQuery(state: DeliveryState.error.rawValue, limit: 100, pageToken: token))
            for document in page.documents {
                do {
                    if try await queue.retry(document.id) == .retrying { retried += 1 }
                } catch let error as DocumentStoreError where error.kind == .unreadable {
                    unreadable += 1
                }
            }
            token = page.nextPageToken
        } while token != nil
        var response: JSONObject = ["retried": .number(Double(retried))]
        if unreadable > 0 { response["unreadable"] = .number(Double(unreadable)) }
        return .json(.object(response))
    }

    // MARK: - Documents

    private func documentRequest(_ request: HTTPRequest, id: String, collection: String) async throws -> HTTPResponse {
        switch request.method {
        case "GET":
            if try Self.isWatch(request.query) {
                // A document that does not exist yet is a 404, so that a stream's
                // `{"id", "deleted": true}` always means it was deleted while watched.
                guard try await store.get(id, from: collection) != nil else {
                    throw APIError(status: 404, message: "No document with ID \(id) in \(collection).")
                }
                return watches.stream {
                    try await store.get(id, from: collection).map(Self.json) ?? ["id": .string(id), "deleted": true]
                }
            }
            guard let document = try await store.get(id, from: collection) else {
                throw APIError(status: 404, message: "No document with ID \(id) in \(collection).")
            }
            return .json(Self.json(document))
        case "PUT":
            return .json(Self.json(try await replace(id, in: collection, with: Self.objectBody(request))))
        case "PATCH":
            let patch = try Self.objectBody(request)
            let merged = try await store.update(id, in: collection) { document in
                let merged = JSONValue.object(document.data).applyingMergePatch(.object(patch)).objectValue ?? [:]
                try checkDeliveryChange(from: document.data, to: merged, in: collection)
                return merged
            }
            guard let merged else { throw APIError(status: 404, message: "No document with ID \(id) in \(collection).") }
            return .json(Self.json(merged))
        case "DELETE":
            guard try await store.delete(id, from: collection) else {
                throw APIError(status: 404, message: "No document with ID \(id) in \(collection).")
            }
            return HTTPResponse(status: 204)
        default:
            throw APIError.methodNotAllowed(request.method, request.path, allowed: ["GET", "PUT", "PATCH", "DELETE"])
        }
    }

    /// Replaces a document's fields, or adds it under `id`. A mail document replaced without a
    /// `delivery` field keeps its record, so an edit does not send it again.
    private func replace(_ id: String, in collection: String, with fields: JSONObject) async throws -> Document {
        for _ in 0..<3 {
            let replaced = try await store.update(id, in: collection) { document in
                var replacement = fields
                if collection == mailCollection, replacement["delivery"] == nil {
                    replacement["delivery"] = document.data["delivery"]
                }
                try checkDeliveryChange(from: document.data, to: replacement, in: collection)
                return replacement
            }
            if let replaced { return replaced }

            do {
                return try await queue.add(fields, to: collection, id: id)
            } catch let error as DocumentStoreError where error.kind == .alreadyExists {
                // Someone added the document between the two steps; replace it now.
                continue
            }
        }
        throw APIError(status: 409, message: "Document \(id) in \(collection) kept changing; try again.")
    }

    /// Rejects any change of a `PROCESSING` mail document's `delivery`: a new state, but also
    /// an earlier lease or another attempt number would let a second attempt start while the
    /// first may still deliver.
    private func checkDeliveryChange(from old: JSONObject, to new: JSONObject, in collection: String) throws {
        guard collection == mailCollection else { return }
        guard old["delivery"]?[path: "state"]?.stringValue == DeliveryState.processing.rawValue,
            new["delivery"] != old["delivery"]
        else { return }
        throw APIError(
            status: 409,
            message: "The document is being sent (PROCESSING), so its delivery record cannot change now; retry once it ends in SUCCESS or ERROR.")
    }

    private func documentAction(_ action: String, id: String, collection: String, request: HTTPRequest) async throws -> HTTPResponse {
        guard action == "retry" else { throw APIError.notFound(request.path) }
        guard request.method == "POST" else {
            throw APIError.methodNotAllowed(request.method, request.path, allowed: ["POST"])
        }
        guard collection == mailCollection else {
            throw APIError.invalid("Only documents of the mail collection \(mailCollection) can be retried.")
        }

        switch try await queue.retry(id) {
        case .retrying, .alreadyQueued:
            guard let document = try await store.get(id, from: collection) else {
                throw APIError(status: 404, message: "No document with ID \(id) in \(collection).")
            }
            return .json(Self.json(document))
        case .processing:
            throw APIError(
                status: 409, message: "Document \(id) is being sent (PROCESSING); retry it once it ends in SUCCESS or ERROR.")
        case .notFound:
            throw APIError(status: 404, message: "No document with ID \(id) in \(collection).")
        }
    }

    // MARK: - JSON

    static func json(_ document: Document) -> JSONValue {
        [
            "id": .string(document.id),
            "collection": .string(document.collection),
            "createTime": .string(document.createTime.description),
            "updateTime": .string(document.updateTime.description),
            "data": .object(document.data),
        ]
    }

    static func json(_ page: DocumentPage, mask: FieldMask? = nil) -> JSONValue {
        let documents = page.documents.map { document in
            guard let mask else { return json(document) }
            var masked = document
            masked.data = mask.apply(to: document.data)
            return json(masked)
        }
        var object: JSONObject = ["documents": .array(documents)]
        if let token = page.nextPageToken { object["nextPageToken"] = .string(token) }
        return .object(object)
    }

    private static func objectBody(_ request: HTTPRequest) throws -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: request.body)
        } catch {
            throw APIError.invalid("The request body is not valid JSON: \(error)")
        }
        guard let object = value.objectValue else {
            throw APIError.invalid("The request body must be a JSON object with the document's fields.")
        }
        return object
    }

    private static func listQuery(_ parameters: [String: String]) throws -> ListQuery {
        var query = ListQuery(state: parameters["state"], pageToken: parameters["pageToken"])
        if let limit = parameters["limit"] {
            guard let number = Int(limit) else {
                throw APIError.invalid("Invalid limit \"\(limit)\": use a number from 1 to 1000.")
            }
            query.limit = number
        }
        switch parameters["order"] {
        case nil, "asc": query.newestFirst = false
        case "desc": query.newestFirst = true
        case let other?: throw APIError.invalid("Invalid order \"\(other)\": use asc (oldest first) or desc (newest first).")
        }
        // A search has page tokens of its own, which DocumentSearch checks, so only the limit
        // is checked for one here.
        var checked = query
        if !(parameters["q"]?.isEmpty ?? true) { checked.pageToken = nil }
        _ = try checked.sequenceBound()
        return query
    }

    private static func isWatch(_ parameters: [String: String]) throws -> Bool {
        switch parameters["watch"] {
        case nil, "false": return false
        case "true": return true
        case let other?: throw APIError.invalid("Invalid watch \"\(other)\": use true or false.")
        }
    }
}
