import DocumentStore
import Foundation
import MIME

/// One element of `message.attachments`, read and checked but not loaded yet: the fields
/// nodemailer takes, with exactly one source of the bytes.
struct AttachmentFields {
    enum Source {
        /// `content`, already decoded with `encoding`.
        case content([UInt8])
        /// `raw`: a complete MIME part with CRLF line breaks.
        case raw([UInt8])
        /// `path` or `href` with a `data:` URL.
        case dataURL(DataURL)
        /// `path` or `href` with an `http:` or `https:` URL.
        case web(URL)
        /// `path` with a local file path.
        case localFile(String)
    }

    var source: Source
    /// The given `filename`, or else the last component of the path or URL.
    var filename: String?
    /// The given `contentType`; `nil` leaves the choice to the loader.
    var contentType: String?
    var disposition: Attachment.Disposition
    /// The Content-ID without angle brackets.
    var contentID: String?
    /// `headers`, in the order of their names.
    var headers: [HeaderField]

    static let sourceNames = ["content", "path", "href", "raw"]

    /// Reads `object`. Errors continue a sentence whose subject is the attachment.
    init(_ object: JSONObject) throws(AttachmentLoadingError) {
        let given = Self.sourceNames.filter { object[$0].map { !$0.isNull } ?? false }
        guard given.count == 1 else {
            if given.isEmpty {
                throw AttachmentLoadingError("has none of content, path, href or raw; set exactly one of them")
            }
            throw AttachmentLoadingError(
                "has \(given.joined(separator: " and ")); set exactly one of content, path, href or raw")
        }

        source = try Self.source(given[0], object)
        filename = try Self.filename(object, source: source)
        contentType = try Self.contentType(object)
        contentID = try Self.contentID(object)
        disposition = try Self.disposition(object, hasContentID: contentID != nil)
        headers = try Self.headers(object)
    }

    /// Returns the name to show in errors about `object`, even one that fails to parse: the
    /// given file name, or the last component of its path or URL.
    static func displayName(of object: JSONObject) -> String? {
        if let filename = object["filename"]?.stringValue, !filename.isEmpty, !containsControlCharacter(filename) {
            return filename
        }
        guard let path = object["path"]?.stringValue ?? object["href"]?.stringValue, !DataURL.isDataURL(path) else {
            return nil
        }
        return lastComponent(ofPathOrURL: path)
    }

    // MARK: - Fields

    private static func source(_ name: String, _ object: JSONObject) throws(AttachmentLoadingError) -> Source {
        let text = try string(object, name) ?? ""

        switch name {
        case "content":
            let encoding = try contentEncoding(object)
            return .content(try encoding.decode(text))
        case "raw":
            guard !text.isEmpty else { throw AttachmentLoadingError("has an empty raw part") }
            return .raw(canonicalLineBreaks(text))
        default:
            return try location(text, field: name)
        }
    }

    /// Reads `path` or `href`. Both take `data:`, `http:` and `https:` URLs; only `path` takes a
    /// local file path.
    private static func location(_ text: String, field: String) throws(AttachmentLoadingError) -> Source {
        guard !text.isEmpty else { throw AttachmentLoadingError("has an empty \(field)") }

        if DataURL.isDataURL(text) {
            return .dataURL(try DataURL(parsing: text))
        }
        if looksLikeURL(text) {
            // The URL itself stays out of errors, because it may carry an access token.
            guard let url = URL(string: text) else {
                throw AttachmentLoadingError(
                    "has a URL in \(field) that cannot be parsed; percent-encode spaces and other special characters")
            }
            if let problem = HTTPFetcher.problem(with: url) {
                throw AttachmentLoadingError("has \(problem) in \(field); use an http, https or data URL")
            }
            return .web(url)
        }
        guard field == "path" else {
            throw AttachmentLoadingError("has an href that is not a URL; use an http, https or data URL, or path for a local file")
        }
        return .localFile(text)
    }

    /// Returns whether `text` starts with a URL scheme: `http:`, `https:`, or any scheme
    /// followed by `//`. A file name such as `notes:2024.txt` is not taken for a URL.
    private static func looksLikeURL(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":") else { return false }
        let scheme = text[..<colon]
        let isScheme =
            scheme.first?.isASCII == true && scheme.first?.isLetter == true
            && scheme.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == ".") }
        guard isScheme else { return false }

        let lowercased = scheme.lowercased()
        return lowercased == "http" || lowercased == "https" || text[colon...].hasPrefix("://")
    }

    private static func contentEncoding(_ object: JSONObject) throws(AttachmentLoadingError) -> ContentEncoding {
        guard let name = try string(object, "encoding"), !name.isEmpty else { return .utf8 }
        guard let encoding = ContentEncoding(name: name) else {
            throw AttachmentLoadingError(
                "has the unknown encoding \(String(reflecting: name)); use \(ContentEncoding.supportedNames)")
        }
        return encoding
    }

    private static func filename(_ object: JSONObject, source: Source) throws(AttachmentLoadingError) -> String? {
        if let filename = try string(object, "filename"), !filename.isEmpty {
            if let control = filename.unicodeScalars.first(where: isControlCharacter) {
                throw AttachmentLoadingError("has a filename with the control character \(scalarName(control)); remove it")
            }
            return filename
        }

        switch source {
        case .web(let url):
            return lastComponent(ofPathOrURL: url.path)
        case .localFile(let path):
            return lastComponent(ofPathOrURL: path)
        case .content, .raw, .dataURL:
            return nil
        }
    }

    private static func contentType(_ object: JSONObject) throws(AttachmentLoadingError) -> String? {
        guard let type = try string(object, "contentType"), !type.isEmpty else { return nil }
        guard MediaType.isValid(type) else {
            throw AttachmentLoadingError(
                "has the contentType \(String(reflecting: type)), which is not a media type such as application/pdf")
        }
        return type
    }

    private static func disposition(_ object: JSONObject, hasContentID: Bool) throws(AttachmentLoadingError) -> Attachment.Disposition {
        guard let text = try string(object, "contentDisposition"), !text.isEmpty else {
            return hasContentID ? .inline : .attachment
        }
        guard let disposition = Attachment.Disposition(rawValue: text.lowercased()) else {
            throw AttachmentLoadingError("has the contentDisposition \(String(reflecting: text)); use attachment or inline")
        }
        return disposition
    }

    /// Reads `cid`, with or without angle brackets. A Content-ID is written inside angle
    /// brackets in a header field, so it may not contain them, spaces or control characters.
    private static func contentID(_ object: JSONObject) throws(AttachmentLoadingError) -> String? {
        guard var cid = try string(object, "cid"), !cid.isEmpty else { return nil }
        if cid.hasPrefix("<") && cid.hasSuffix(">") && cid.count >= 2 {
            cid = String(cid.dropFirst().dropLast())
        }

        let isValid = !cid.isEmpty && cid.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") }
        guard isValid else {
            throw AttachmentLoadingError(
                "has the cid \(String(reflecting: cid)), but a Content-ID may contain only printable ASCII characters other than space, '<' and '>'")
        }
        return cid
    }

    private static func headers(_ object: JSONObject) throws(AttachmentLoadingError) -> [HeaderField] {
        guard let value = object["headers"], !value.isNull else { return [] }
        guard let fields = value.objectValue else {
            throw AttachmentLoadingError("has headers that are \(value.typeDescription), not an object of header names and string values")
        }

        var headers: [HeaderField] = []
        for name in fields.keys.sorted() {
            guard let text = fields[name]?.stringValue else {
                throw AttachmentLoadingError(
                    "has the header \(String(reflecting: name)) set to \(fields[name]!.typeDescription); header values must be strings")
            }
            let field = HeaderField(name: name, value: text)
            do {
                try field.validate()
            } catch {
                throw AttachmentLoadingError("has an invalid header \(String(reflecting: name)): \(error.reason)")
            }
            if ["content-disposition", "content-id"].contains(name.lowercased()) {
                throw AttachmentLoadingError(
                    "has an invalid header \(String(reflecting: name)): it is set from the contentDisposition and cid fields")
            }
            headers.append(field)
        }
        return headers
    }

    // MARK: - Helpers

    private static func string(_ object: JSONObject, _ name: String) throws(AttachmentLoadingError) -> String? {
        guard let value = object[name], !value.isNull else { return nil }
        guard let text = value.stringValue else {
            throw AttachmentLoadingError("has \(name) set to \(value.typeDescription); it must be a string")
        }
        return text
    }

    /// Returns the last component of a file path, or of a URL's path (percent-decoded, without
    /// the query). Returns `nil` when there is none or it contains a control character.
    private static func lastComponent(ofPathOrURL path: String) -> String? {
        var withoutQuery = Substring(path)
        if looksLikeURL(path), let url = URL(string: path) {
            withoutQuery = Substring(url.path)
        }
        guard let last = withoutQuery.split(separator: "/").last, last != ".", last != ".." else { return nil }
        let name = String(last)
        return containsControlCharacter(name) ? nil : name
    }

    private static func containsControlCharacter(_ text: String) -> Bool {
        text.unicodeScalars.contains(where: isControlCharacter)
    }

    private static func isControlCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// `text` as UTF-8 with every line break (CRLF, LF alone, CR alone) written as CRLF, as
    /// RFC 5322 requires in a message.
    private static func canonicalLineBreaks(_ text: String) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        var previousWasCR = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\n") {
                if !previousWasCR { output.append(UInt8(ascii: "\r")) }
                output.append(byte)
            } else {
                if previousWasCR { output.append(UInt8(ascii: "\n")) }
                output.append(byte)
            }
            previousWasCR = byte == UInt8(ascii: "\r")
        }
        if previousWasCR { output.append(UInt8(ascii: "\n")) }
        return output
    }
}
