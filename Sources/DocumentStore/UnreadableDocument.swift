/// The error record for a document that the database accepted but this service cannot read,
/// such as one with a number beyond a double's range or nesting deeper than 512 levels.
///
/// Such a document would otherwise fail every claim that reads it, and with it every document
/// behind it. Ending it in `ERROR` changes only its `delivery` and lets the others go on.
public enum UnreadableDocument {
    /// Returns the `delivery` record of an unreadable document: `ERROR`, with the reason the
    /// reader gave and the fix. The attempt count and start time of `previous`, the document's
    /// `delivery` when it can be read, carry over, so a retry after the fix continues the count.
    public static func delivery(reason: String, at time: Timestamp, previous: JSONValue? = nil) -> JSONValue {
        let attempts = previous?[path: "attempts"]?.numberValue.map(JSONValue.number) ?? 0
        let startTime = previous?[path: "startTime"]?.stringValue.map(JSONValue.string) ?? .string(time.description)
        return [
            "state": "ERROR", "attempts": attempts, "startTime": startTime, "endTime": .string(time.description),
            "error": .string("The document cannot be read: \(sentenceBody(reason)). Correct it with SQL and set delivery.state to RETRY."),
        ]
    }

    /// Returns the fields that reads show for a document that cannot be read: its stored JSON text
    /// as the string `unreadableData`, beside its `delivery` when that can be read. Listings then
    /// show the document and its error, and one such document does not fail a whole listing.
    public static func standIn(storedText: String, delivery: JSONValue?) -> JSONObject {
        var fields: JSONObject = ["unreadableData": .string(storedText)]
        fields["delivery"] = delivery
        return fields
    }

    /// Returns the error raised by a change to a document that cannot be read.
    public static func changeError(id: String, collection: String, problem: String) -> DocumentStoreError {
        DocumentStoreError(
            .unreadable, "Document \(id) in \(collection) \(sentenceBody(problem)), so it cannot be changed. Correct it with SQL first.")
    }

    /// Returns `reason` without its final period, so that a sentence can go on after it.
    public static func sentenceBody(_ reason: String) -> String {
        reason.hasSuffix(".") ? String(reason.dropLast()) : reason
    }
}
