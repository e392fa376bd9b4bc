/// Content types for attachments: the default from a file name's extension, and the check
/// that a given type is safe to write into a Content-Type header field.
enum MediaType {
    /// The media type for common file name extensions, in lowercase. A name with another
    /// extension gets `application/octet-stream`.
    static let byExtension: [String: String] = [
        "pdf": "application/pdf",
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "gif": "image/gif",
        "webp": "image/webp",
        "svg": "image/svg+xml",
        "txt": "text/plain",
        "html": "text/html",
        "htm": "text/html",
        "csv": "text/csv",
        "ics": "text/calendar",
        "json": "application/json",
        "xml": "application/xml",
        "zip": "application/zip",
        "gz": "application/gzip",
        "doc": "application/msword",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls": "application/vnd.ms-excel",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt": "application/vnd.ms-powerpoint",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt": "application/vnd.oasis.opendocument.text",
        "ods": "application/vnd.oasis.opendocument.spreadsheet",
        "mp3": "audio/mpeg",
        "mp4": "video/mp4",
        "wav": "audio/wav",
        "eml": "message/rfc822",
    ]

    static let fallback = "application/octet-stream"

    /// Returns the type for `filename`'s extension. A `text/` type gets `; charset=utf-8` when `content`
    /// is valid UTF-8, so that mail clients do not guess the charset.
    static func guess(filename: String?, content: [UInt8]) -> String {
        guard let filename, let dot = filename.lastIndex(of: "."), dot != filename.startIndex else {
            return fallback
        }
        let fileExtension = filename[filename.index(after: dot)...].lowercased()
        guard let type = byExtension[fileExtension] else { return fallback }

        if type.hasPrefix("text/") && String(validating: content, as: UTF8.self) != nil {
            return type + "; charset=utf-8"
        }
        return type
    }

    /// Returns whether `text` is a media type (RFC 2045 section 5.1: `type "/" subtype`, both tokens)
    /// with optional parameters in printable ASCII. No control character may appear, so a value
    /// cannot end the header field and start another.
    static func isValid(_ text: String) -> Bool {
        guard text.utf8.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E }) else { return false }

        let essence = text.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let parts = essence.trimmingSpaces().split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { isToken($0) }
    }

    /// RFC 2045 `token`: printable ASCII other than space and the `tspecials`.
    private static func isToken(_ text: Substring) -> Bool {
        let specials: Set<UInt8> = Set("()<>@,;:\\\"/[]?=".utf8)
        return !text.isEmpty && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && !specials.contains($0) }
    }
}

extension Substring {
    /// Returns the substring without leading and trailing spaces (U+0020 only).
    func trimmingSpaces() -> Substring {
        var trimmed = self
        while trimmed.first == " " { trimmed.removeFirst() }
        while trimmed.last == " " { trimmed.removeLast() }
        return trimmed
    }
}
