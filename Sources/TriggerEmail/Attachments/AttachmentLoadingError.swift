/// The reason one attachment cannot be loaded. `reason` continues a sentence whose subject is
/// the attachment, such as "is larger than the 10485760-byte limit set by ATTACHMENT_MAX_BYTES".
/// `AttachmentLoader` turns it into a `MailDocumentError` that names the attachment.
struct AttachmentLoadingError: Error, Equatable {
    var reason: String

    init(_ reason: String) {
        self.reason = reason
    }
}
