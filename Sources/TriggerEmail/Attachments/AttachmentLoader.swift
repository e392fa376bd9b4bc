import BlockingThreads
import DocumentStore
import Foundation
import MIME

/// Turns a mail document's `message.attachments` into MIME attachments. Each element is an
/// object in the shape nodemailer takes:
///
/// - exactly one source of the bytes:
///   - `content`: a string decoded with `encoding`, which is `base64`, `hex`, `utf-8`,
///     `binary`/`latin1` or `ascii`. Without `encoding` the text is sent as UTF-8.
///   - `path`: a `data:`, `http:` or `https:` URL, or a file under `ATTACHMENT_DIRECTORY`.
///   - `href`: a `data:`, `http:` or `https:` URL.
///   - `raw`: a complete MIME part, sent as given.
/// - `filename`; by default the last component of the path or URL;
/// - `contentType`; by default the `data:` URL's type, else a type from the file name's
///   extension, else `application/octet-stream`;
/// - `contentDisposition` (`attachment` or `inline`), `cid` (makes the default `inline`) and
///   `headers` (an object of string values).
///
/// Every element is checked before anything is fetched. Sizes count decoded bytes against
/// `AttachmentSettings.maxBytes` per attachment and `maxTotalBytes` in all.
///
/// Warning: with `allowPrivateAddresses` or `allowedDirectory` set, whoever can write a mail
/// document can mail out what the service can reach. See `AttachmentSettings`.
public struct AttachmentLoader: Sendable {
    public var settings: AttachmentSettings
    private let blockingThreads: BlockingThreadPool
    private let exemptAddresses: Set<String>

    /// Threads for name resolution and file reads when the caller gives none. Four let that
    /// many deliveries resolve or read at once; more wait for a free thread.
    private static let sharedBlockingThreads = BlockingThreadPool(name: "attachments", threadCount: 4)

    /// `blockingThreads` runs `getaddrinfo` and file reads; by default a pool of four threads
    /// shared by all loaders.
    public init(settings: AttachmentSettings = AttachmentSettings(), blockingThreads: BlockingThreadPool? = nil) {
        self.init(settings: settings, blockingThreads: blockingThreads, exemptAddresses: [])
    }

    /// Creates a loader that lets `exemptAddresses` through the private-address check, for tests
    /// that fetch from their own server on loopback while the check is on.
    init(settings: AttachmentSettings, blockingThreads: BlockingThreadPool?, exemptAddresses: Set<String>) {
        self.settings = settings
        self.blockingThreads = blockingThreads ?? Self.sharedBlockingThreads
        self.exemptAddresses = exemptAddresses
    }

    /// Loads every attachment in `attachments` (an array, or null for none), in order.
    ///
    /// Errors name the element as `field[index]`, with its file name when it has one, such as
    /// `message.attachments[2] (report.pdf) is larger than the 10485760-byte limit set by
    /// ATTACHMENT_MAX_BYTES.`
    public func load(_ attachments: JSONValue, field: String = "message.attachments") async throws(MailDocumentError) -> [Attachment] {
        guard !attachments.isNull else { return [] }
        guard let elements = attachments.arrayValue else {
            throw .wrongType(field, expected: "an array of attachment objects", actual: MailDocument.describe(attachments))
        }

        // Reading every element first means that a mistake in the last one costs no download.
        var checked: [(label: String, fields: AttachmentFields)] = []
        for (index, element) in elements.enumerated() {
            let position = "\(field)[\(index)]"
            guard let object = element.objectValue else {
                throw MailDocumentError(
                    "\(position) is \(element.typeDescription), but each attachment must be an object with filename and "
                        + "one of content, path, href or raw.")
            }

            let label = AttachmentFields.displayName(of: object).map { "\(position) (\($0))" } ?? position
            do {
                checked.append((label, try AttachmentFields(object)))
            } catch {
                throw MailDocumentError("\(label) \(error.reason).")
            }
        }

        var loaded: [Attachment] = []
        var byteCount = 0
        for (label, fields) in checked {
            let limit = SizeLimit(settings: settings, bytesSoFar: byteCount)
            do {
                let attachment = try await load(fields, limit: limit)
                byteCount += attachment.rawPart?.count ?? attachment.content.count
                loaded.append(attachment)
            } catch {
                throw MailDocumentError("\(label) \(error.reason).")
            }
        }
        return loaded
    }

    private func load(_ fields: AttachmentFields, limit: SizeLimit) async throws(AttachmentLoadingError) -> Attachment {
        var dataURLType: String?
        let content: [UInt8]

        switch fields.source {
        case .raw(let part):
            try limit.check(part.count)
            return .raw(part)
        case .content(let bytes):
            content = bytes
        case .dataURL(let url):
            content = url.content
            dataURLType = url.mediaType
        case .web(let url):
            content = try await fetch(url, limit: limit)
        case .localFile(let path):
            let reader = LocalFileReader(allowedDirectory: settings.allowedDirectory, blockingThreads: blockingThreads)
            content = try await reader.read(path, limit: limit)
        }
        try limit.check(content.count)

        return Attachment(
            filename: fields.filename,
            contentType: fields.contentType ?? dataURLType ?? MediaType.guess(filename: fields.filename, content: content),
            disposition: fields.disposition,
            contentID: fields.contentID,
            headers: fields.headers,
            content: content)
    }

    private func fetch(_ url: URL, limit: SizeLimit) async throws(AttachmentLoadingError) -> [UInt8] {
        let policy = AddressPolicy(
            allowsPrivateAddresses: settings.allowPrivateAddresses,
            resolver: NameResolver(blockingThreads: blockingThreads),
            exemptAddresses: exemptAddresses)
        let fetcher = HTTPFetcher(policy: policy, timeout: settings.fetchTimeout)

        do {
            return try await fetcher.fetch(url, maxBytes: limit.bytes)
        } catch {
            switch error {
            case .tooLarge:
                throw AttachmentLoadingError(limit.exceededReason)
            case .timedOut:
                throw AttachmentLoadingError(
                    "could not be fetched within the \(describeSeconds(settings.fetchTimeout))-second limit set by ATTACHMENT_FETCH_TIMEOUT_SECONDS")
            case .refused(let reason):
                throw AttachmentLoadingError(reason)
            }
        }
    }
}

/// Formats a duration in seconds without trailing zeros: `30`, `0.5`.
private func describeSeconds(_ duration: Duration) -> String {
    let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    if milliseconds % 1000 == 0 {
        return String(milliseconds / 1000)
    }
    var text = String(format: "%.3f", Double(milliseconds) / 1000)
    while text.hasSuffix("0") { text.removeLast() }
    return text
}
