/// Raised for an attachment that cannot be written into a message safely.
public struct AttachmentError: Error, CustomStringConvertible, Equatable {
    public var reason: String

    public var description: String { reason }
}

extension Attachment {
    /// Checks the fields that go into header fields, so that no value can end a header line
    /// early or break the MIME structure, and that a raw part is a well-formed entity.
    public func validate() throws(AttachmentError) {
        if let rawPart {
            try Self.validateRawPart(rawPart)
            return
        }

        guard Self.isValidContentType(contentType) else {
            throw AttachmentError(reason: "contentType \"\(contentType)\" is not a media type such as application/pdf or text/plain; charset=utf-8")
        }
        if let filename {
            guard !filename.isEmpty, !filename.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw AttachmentError(reason: "the filename is empty or contains control characters such as a line break")
            }
        }
        if let contentID {
            let isValid = !contentID.isEmpty && contentID.utf8.count <= 250
                && contentID.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") }
            guard isValid else {
                throw AttachmentError(reason: "cid \"\(contentID)\" may contain only printable ASCII characters other than spaces, < and >")
            }
        }
        for header in headers {
            do {
                try header.validate()
            } catch {
                throw AttachmentError(reason: error.description)
            }
        }
    }

    /// `type/subtype` made of RFC 2045 tokens, then parameters; printable ASCII only.
    static func isValidContentType(_ text: String) -> Bool {
        guard text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) else { return false }

        let mediaType = text.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        let parts = mediaType.trimmingWhitespace().split(separator: "/", omittingEmptySubsequences: false)
        let tokenSpecials = Set("()<>@,;:\\\"/[]?= ")
        return parts.count == 2 && parts.allSatisfy { part in
            !part.isEmpty && !part.contains(where: { tokenSpecials.contains($0) })
        }
    }

    private static func validateRawPart(_ bytes: [UInt8]) throws(AttachmentError) {
        guard bytes.firstIndex(ofBytes: [0x0D, 0x0A, 0x0D, 0x0A]) != nil else {
            throw AttachmentError(reason: "raw must be a complete MIME part: header fields, an empty line, then the body")
        }

        var lineLength = 0
        for (index, byte) in bytes.enumerated() {
            if byte == 0x0A {
                guard index > 0, bytes[index - 1] == 0x0D else {
                    throw AttachmentError(reason: "raw contains a line feed without a carriage return before it")
                }
                lineLength = 0
            } else if byte == 0x0D {
                guard index + 1 < bytes.count, bytes[index + 1] == 0x0A else {
                    throw AttachmentError(reason: "raw contains a carriage return without a line feed after it")
                }
            } else {
                lineLength += 1
                guard lineLength <= 998 else {
                    throw AttachmentError(reason: "raw contains a line longer than 998 octets")
                }
            }
        }
    }
}
