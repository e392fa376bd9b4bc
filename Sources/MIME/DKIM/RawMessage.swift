/// A message split the way DKIM reads it: the header fields exactly as written, and the body.
struct RawMessage {
    /// One header field as written.
    struct Field {
        /// The field name in lower case, without white space before the colon, because DKIM
        /// compares names without regard to case (RFC 6376 section 5.4).
        var lowercasedName: String
        /// The whole field, folds included, without the CRLF that ends its last line.
        var bytes: ArraySlice<UInt8>
    }

    /// The header fields from top to bottom.
    var fields: [Field]
    /// Everything after the empty line that ends the header section.
    var body: ArraySlice<UInt8>

    /// Splits `message`, which must use CRLF line ends (RFC 5322 section 2.1).
    init(_ message: [UInt8]) throws(DKIMError) {
        var fields: [Field] = []
        var lineStart = message.startIndex
        var lineNumber = 1

        while true {
            guard let lineEnd = Self.indexOfCRLF(in: message, from: lineStart) else {
                throw DKIMError(
                    "The message has no empty line (CRLF CRLF) between its header section and its body, so it cannot be signed")
            }
            if lineEnd == lineStart { break }

            let line = message[lineStart..<lineEnd]
            if let first = line.first, DKIMByte.isWhiteSpace(first) {
                // A line that starts with white space continues the field above (RFC 5322
                // section 2.2.3).
                guard !fields.isEmpty else {
                    throw DKIMError("The message's first header line starts with white space, so it continues no header field")
                }
                fields[fields.count - 1].bytes = message[fields[fields.count - 1].bytes.startIndex..<lineEnd]
            } else {
                fields.append(try Self.field(line, lineNumber: lineNumber))
            }

            lineStart = lineEnd + 2
            lineNumber += 1
        }

        self.fields = fields
        self.body = message[(lineStart + 2)...]
    }

    private static func field(_ line: ArraySlice<UInt8>, lineNumber: Int) throws(DKIMError) -> Field {
        guard let colon = line.firstIndex(of: DKIMByte.colon) else {
            throw DKIMError("Header line \(lineNumber) of the message has no colon, so it is not a header field")
        }

        var name = line[..<colon]
        while let last = name.last, DKIMByte.isWhiteSpace(last) {
            name = name.dropLast()
        }
        guard !name.isEmpty else {
            throw DKIMError("Header line \(lineNumber) of the message has an empty field name")
        }
        return Field(lowercasedName: String(decoding: name, as: UTF8.self).lowercased(), bytes: line)
    }

    private static func indexOfCRLF(in bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == DKIMByte.carriageReturn && bytes[index + 1] == DKIMByte.lineFeed { return index }
            index += 1
        }
        return nil
    }
}

/// The octets that DKIM parsing and canonicalization look for.
enum DKIMByte {
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let carriageReturn = UInt8(ascii: "\r")
    static let lineFeed = UInt8(ascii: "\n")
    static let colon = UInt8(ascii: ":")

    /// WSP in RFC 5234: a space or a horizontal tab.
    static func isWhiteSpace(_ byte: UInt8) -> Bool {
        byte == space || byte == tab
    }
}
