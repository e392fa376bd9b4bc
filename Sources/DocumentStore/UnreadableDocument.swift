/// The error record for a document that the database accepted but this service cannot read,
/// such as one with a number beyond a double's range or nesting deeper than 512 levels.
///
/// Such a document would otherwise fail every claim that reads it, and with it every document
/// behind it. Ending it in `ERROR` changes only its `delivery` and lets the others go on.
public enum UnreadableDocument {
    /// Returns the `delivery` record of an unreadable document: `ERROR` after no attempt, with
    /// the reason the reader gave and the fix.
    public static func delivery(reason: String, at time: Timestamp) -> JSONValue {
        // The reader's messages end with a period, and the sentence goes on after the reason.
        let reason = reason.hasSuffix(".") ? String(reason.dropLast()) : reason
        return [
            "state": "ERROR", "attempts": 0, "startTime": .string(time.description), "endTime": .string(time.description),
            "error": .string("The document cannot be read: \(reason). Correct it with SQL and set delivery.state to RETRY."),
        ]
    }
}
