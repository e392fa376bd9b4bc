import DocumentStore

/// A document as the columns it is stored in: `delivery` in the document's record, every other
/// field in `data`, the document's body. Delivery updates, two per message, then rewrite a record
/// of about 300 bytes instead of the whole document.
struct StoredColumns {
    /// The document without `delivery`, as JSON text.
    var data: SQLiteValue
    /// `delivery` as JSON text, or NULL when the document has none.
    var delivery: SQLiteValue

    init(_ document: JSONObject) {
        var rest = document
        let delivery = rest.removeValue(forKey: "delivery")
        self.data = .text(JSONValue.object(rest).serialized())
        self.delivery = delivery.map { .text($0.serialized()) } ?? .null
    }
}

/// The place of one top-level field of a document: `delivery` in the document's record, any
/// other field inside `data` in the document's body.
struct FieldLocation {
    private let field: String

    init(_ field: String) {
        self.field = field
    }

    private var isDelivery: Bool { field == "delivery" }
    private var path: SQLiteValue { .text("$.\(field)") }

    /// Reads the field as JSON text (NULL when the document does not have it), the update time
    /// and the sequence of the document `id`, and returns no row when there is no such document.
    func select(id: String, in collection: String, on connection: SQLiteConnection) throws -> SQLiteStatement {
        let statement: SQLiteStatement
        if isDelivery {
            statement = try connection.prepare("SELECT delivery, update_time, sequence FROM document_records WHERE collection = ? AND id = ?")
            try statement.bind([.text(collection), .text(id)])
        } else {
            statement = try connection.prepare(
                """
                SELECT b.data -> ?, r.update_time, r.sequence FROM document_records AS r JOIN document_bodies AS b ON b.sequence = r.sequence
                WHERE r.collection = ? AND r.id = ?
                """)
            try statement.bind([path, .text(collection), .text(id)])
        }
        return statement
    }

    /// Sets the field of the document `sequence` to `value` and its update time to `updateTime`.
    func write(_ value: JSONValue, updateTime: Timestamp, sequence: Int64, on connection: SQLiteConnection) throws {
        if isDelivery {
            try connection.prepare("UPDATE document_records SET delivery = ?, update_time = ? WHERE sequence = ?")
                .run([.text(value.serialized()), .text(updateTime.description), .integer(sequence)])
        } else {
            try connection.prepare("UPDATE document_bodies SET data = json_set(data, ?, json(?)) WHERE sequence = ?")
                .run([path, .text(value.serialized()), .integer(sequence)])
            try connection.prepare("UPDATE document_records SET update_time = ? WHERE sequence = ?")
                .run([.text(updateTime.description), .integer(sequence)])
        }
    }
}
