/// A mail document that cannot be sent as it is. The message names the field and what to
/// change, and becomes `delivery.error`.
public struct MailDocumentError: Error, CustomStringConvertible, Equatable {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }

    static func wrongType(_ field: String, expected: String, actual: JSONValueDescription) -> MailDocumentError {
        MailDocumentError("Field '\(field)' must be \(expected), but it is \(actual.text).")
    }
}

/// The type of a JSON value as words, for `wrongType` messages.
public struct JSONValueDescription: Equatable {
    var text: String
}
