/// The maximum size of the next attachment: the per-attachment limit, or what is left of the
/// per-message total when that is smaller. It carries the error for exceeding it, so that every
/// source (content, file, URL) reports the limit that applied.
struct SizeLimit: Sendable, Equatable {
    var bytes: Int
    /// Continues a sentence about the attachment.
    var exceededReason: String

    init(settings: AttachmentSettings, bytesSoFar: Int) {
        let remaining = max(0, settings.maxTotalBytes - bytesSoFar)
        if remaining < settings.maxBytes {
            bytes = remaining
            exceededReason =
                "brings the attachments past the \(settings.maxTotalBytes)-byte limit for one message set by ATTACHMENT_MAX_TOTAL_BYTES"
        } else {
            bytes = settings.maxBytes
            exceededReason = "is larger than the \(settings.maxBytes)-byte limit set by ATTACHMENT_MAX_BYTES"
        }
    }

    func check(_ byteCount: Int) throws(AttachmentLoadingError) {
        guard byteCount <= bytes else { throw AttachmentLoadingError(exceededReason) }
    }
}
