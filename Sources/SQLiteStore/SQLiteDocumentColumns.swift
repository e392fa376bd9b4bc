import DocumentStore

/// A document as the columns of its row: `delivery` in a column of its own, every other field in
/// `data`. Delivery updates, two per message, then rewrite about 200 bytes instead of the whole
/// document.
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

/// The SQL that reads and writes one top-level field of a document: `delivery` in its own
/// column, any other field inside `data`. Writing `delivery` always sets the column.
struct FieldLocation {
    /// SQL that reads the field as JSON text, or NULL when the document does not have it.
    var selection: String
    /// SQL that sets the field to the JSON text of the next parameter.
    var assignment: String
    /// The parameters that `selection` and `assignment` take before the value.
    var parameters: [SQLiteValue]

    init(_ field: String) {
        if field == "delivery" {
            // A row that SQL inserted with `delivery` inside `data` has no column value yet.
            selection = "CASE WHEN delivery IS NULL THEN data -> '$.delivery' ELSE delivery END"
            assignment = "delivery = ?"
            parameters = []
        } else {
            selection = "data -> ?"
            assignment = "data = json_set(data, ?, json(?))"
            parameters = [.text("$.\(field)")]
        }
    }
}
