/// A file or inline part of a message, with its bytes already loaded.
public struct Attachment: Sendable, Equatable {
    public enum Disposition: String, Sendable {
        /// Offered as a separate file.
        case attachment
        /// Shown within the message body, such as an image the HTML references by `cid:`.
        case inline
    }

    /// The file name offered to the recipient; may contain any Unicode.
    public var filename: String?
    /// The content's media type with parameters, such as `image/png` or
    /// `text/plain; charset=utf-8`.
    public var contentType: String
    public var disposition: Disposition
    /// The Content-ID without angle brackets, for `cid:` references from the HTML.
    public var contentID: String?
    /// Extra header fields of this part.
    public var headers: [HeaderField]
    public var content: [UInt8]
    /// A complete MIME part (header fields, an empty line, the encoded body) to write exactly as
    /// given. When set, every other field is ignored and the part goes with the attachments.
    public var rawPart: [UInt8]?

    public init(
        filename: String? = nil, contentType: String, disposition: Disposition = .attachment, contentID: String? = nil,
        headers: [HeaderField] = [], content: [UInt8]
    ) {
        self.filename = filename
        self.contentType = contentType
        self.disposition = disposition
        self.contentID = contentID
        self.headers = headers
        self.content = content
        self.rawPart = nil
    }

    /// Makes an attachment written exactly as `part`.
    public static func raw(_ part: [UInt8]) -> Attachment {
        var attachment = Attachment(contentType: "application/octet-stream", content: [])
        attachment.rawPart = part
        return attachment
    }
}
