/// Raised for an extra header field that cannot be written safely.
public struct HeaderFieldError: Error, CustomStringConvertible, Equatable {
    public var name: String
    public var reason: String

    public var description: String { "Invalid header \"\(name)\": \(reason)." }
}

extension HeaderField {
    /// Fields the composer writes itself. Replacing one would break the message's structure or
    /// its identity (the Message-ID reported in `delivery.info`), or would leak Bcc recipients,
    /// so a document cannot set them through `headers`.
    public static let composerOwnedNames: Set<String> = [
        "from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "mime-version",
        "content-type", "content-transfer-encoding",
    ]

    /// Checks the name (RFC 5322 `field-name`: printable ASCII without a colon) and the value (no
    /// CR or LF, which would let the value start a header field of its own).
    public func validate() throws(HeaderFieldError) {
        let nameIsValid = !name.isEmpty && name.utf8.allSatisfy { $0 >= 33 && $0 <= 126 && $0 != UInt8(ascii: ":") }
        guard nameIsValid else {
            throw HeaderFieldError(name: name, reason: "a header name may contain only printable ASCII characters other than ':'")
        }
        guard name.utf8.count <= 76 else {
            throw HeaderFieldError(name: String(name.prefix(80)), reason: "a header name may be at most 76 characters long, so that the field starts on one line")
        }
        guard !Self.composerOwnedNames.contains(name.lowercased()) else {
            throw HeaderFieldError(name: name, reason: "this header is set from the document's own fields and cannot be replaced through headers")
        }
        guard !value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) else {
            throw HeaderFieldError(name: name, reason: "the value contains a line break (CR or LF), which could inject header fields")
        }
        guard !value.unicodeScalars.contains(where: \.isHeaderControlCharacter) else {
            throw HeaderFieldError(name: name, reason: "the value contains a control character")
        }
        guard value.utf8.count <= 16_384 else {
            throw HeaderFieldError(name: name, reason: "the value is longer than 16384 octets")
        }
    }
}
