/// Collections of JSON documents, with what the delivery processor needs on top: listing by
/// `delivery.state`, claiming a batch atomically, finding expired leases, and waking up when
/// anything changes.
///
/// A store may be shared by many processes on many machines (PostgreSQL), so every
/// read-check-write goes through `update` or `claim`, which run the caller's closure inside the
/// store's transaction while the rows are locked. The only mail fields a store reads are
/// `delivery.state` and `delivery.leaseExpireTime`.
public protocol DocumentStore: Sendable {
    /// Adds a document under `id`, or under a new random ID when `id` is `nil`.
    /// Throws `alreadyExists` when the ID is taken.
    func add(_ data: JSONObject, to collection: String, id: String?) async throws -> Document

    /// Adds many documents in one transaction, each under a new random ID.
    func addBatch(_ batch: [JSONObject], to collection: String) async throws -> [Document]

    /// Returns the document, or `nil` when it does not exist. A document whose stored JSON cannot
    /// be read comes back with `UnreadableDocument.standIn` fields, from `list` too.
    func get(_ id: String, from collection: String) async throws -> Document?

    /// Creates the document or replaces all of its fields.
    func set(_ data: JSONObject, id: String, in collection: String) async throws -> Document

    /// Applies a JSON Merge Patch (RFC 7396) to an existing document. Throws `notFound`.
    func merge(_ patch: JSONObject, id: String, in collection: String) async throws -> Document

    /// Deletes the document; returns whether it existed.
    func delete(_ id: String, from collection: String) async throws -> Bool

    /// Lists documents in the order they were added, or newest first with `newestFirst`, a page
    /// at a time.
    func list(_ collection: String, _ query: ListQuery) async throws -> DocumentPage

    /// Counts documents, all or those whose `delivery.state` equals `state`.
    func count(_ collection: String, state: String?) async throws -> Int

    /// Counts documents by `delivery.state` in one query, so the counts add up to the total at
    /// one moment. Documents without a state count under `nil`. A state that is a number or an
    /// object counts under its JSON text, because the stores index the state as text.
    func countByState(_ collection: String) async throws -> [String?: Int]

    /// Reads the document, lets `change` decide its new fields, and writes them, all in one
    /// transaction with the document locked. `change` returns `nil` to leave it as it is.
    /// Returns the document as it is afterwards, or `nil` when it does not exist. Throws
    /// `unreadable` for a document whose stored JSON cannot be read.
    func update(
        _ id: String, in collection: String, _ change: @escaping @Sendable (Document) throws -> JSONObject?
    ) async throws -> Document?

    /// Applies `updates` to one top-level field of each document, in order, in one
    /// transaction. Each change gets the field's current value (`nil` when it is missing) and
    /// returns its new value, or `nil` to leave the document as it is. The other fields are
    /// neither read nor rewritten, so delivery updates stay cheap for large documents.
    /// Returns the field's value afterwards for each update, `nil` where the document does not
    /// exist or lacks the field. `field` is ASCII letters, digits and `_`.
    func updateFieldBatch(_ field: String, _ updates: [FieldUpdate], in collection: String) async throws -> [JSONValue?]

    /// Claims up to `limit` documents ready to send, oldest first: those whose `delivery.state`
    /// is missing or one of `readyStates`. For each one, in a single transaction,
    /// `changeDelivery` turns its `delivery` (`nil` when missing) into the claimed one (for the
    /// processor: `PROCESSING` with a lease), or returns `nil` to leave the document alone. Rows
    /// another worker is claiming at the same moment are skipped, never claimed twice. Returns
    /// the claimed documents with their new `delivery`.
    func claim(
        from collection: String, readyStates: [String], limit: Int,
        _ changeDelivery: @escaping @Sendable (JSONValue?) -> JSONValue?
    ) async throws -> [Document]

    /// Lists up to `limit` documents whose `delivery.state` is `PROCESSING` and whose
    /// `delivery.leaseExpireTime` is before `now` or missing. The caller ends each one through
    /// `update`, which checks again under the lock. A document among them that cannot be read
    /// is ended as `ERROR` here (see `UnreadableDocument`) instead of listed.
    func expiredLeases(in collection: String, at now: Timestamp, limit: Int) async throws -> [Document]

    /// A number that grows whenever any document in the store is written, by this process or
    /// another one. Read it before looking for work and pass it to `waitForChange`.
    var changeCount: UInt64 { get }

    /// Returns once `changeCount` differs from `seen`, or after `timeout`.
    func waitForChange(after seen: UInt64, timeout: Duration) async

    /// Closes the store; later calls fail.
    func close() async
}

extension DocumentStore {
    /// Applies the patch through `update`, so that every store merges the same way.
    public func merge(_ patch: JSONObject, id: String, in collection: String) async throws -> Document {
        let merged = try await update(id, in: collection) { document in
            JSONValue.object(document.data).applyingMergePatch(.object(patch)).objectValue ?? [:]
        }
        guard let merged else {
            throw DocumentStoreError(.notFound, "No document with ID \(id) in \(collection).")
        }
        return merged
    }
}

/// One change of `updateFieldBatch`.
public struct FieldUpdate: Sendable {
    public var id: String
    public var change: @Sendable (JSONValue?) -> JSONValue?

    public init(id: String, change: @escaping @Sendable (JSONValue?) -> JSONValue?) {
        self.id = id
        self.change = change
    }
}

/// What `list` returns and where to go on from.
public struct ListQuery: Sendable, Equatable {
    /// Only documents whose `delivery.state` equals this; all documents when `nil`.
    public var state: String?
    /// Documents per page, 1 to 1,000.
    public var limit: Int
    /// The `nextPageToken` of the previous page, or `nil` for the first page.
    public var pageToken: String?
    /// Newest documents first instead of oldest first.
    public var newestFirst: Bool

    public init(state: String? = nil, limit: Int = 100, pageToken: String? = nil, newestFirst: Bool = false) {
        self.state = state
        self.limit = limit
        self.pageToken = pageToken
        self.newestFirst = newestFirst
    }

    /// Checks the limit and returns the sequence number where the page starts: the listing goes
    /// on past the document the page token names. Without a token that is 0 oldest first and
    /// `Int64.max` newest first.
    public func sequenceBound() throws(DocumentStoreError) -> Int64 {
        guard (1...1000).contains(limit) else {
            throw DocumentStoreError(.invalidArgument, "Invalid limit \(limit): use a number from 1 to 1000.")
        }
        guard let pageToken else { return newestFirst ? Int64.max : 0 }

        guard let sequence = Int64(pageToken), sequence >= 0 else {
            throw DocumentStoreError(.invalidArgument, "Invalid page token \"\(pageToken)\": pass the nextPageToken of the previous page.")
        }
        return sequence
    }
}

public struct DocumentPage: Sendable, Equatable {
    public var documents: [Document]
    /// Pass this as `pageToken` to read the next page; `nil` on the last page.
    public var nextPageToken: String?

    public init(documents: [Document], nextPageToken: String?) {
        self.documents = documents
        self.nextPageToken = nextPageToken
    }
}
