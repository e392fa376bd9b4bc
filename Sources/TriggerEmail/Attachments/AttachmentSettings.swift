/// Limits and permissions for loading `message.attachments`, from the `ATTACHMENT_*` variables.
///
/// The defaults let a document attach content it carries itself and files from public web
/// servers, but no local file and no address on the service's own network.
public struct AttachmentSettings: Sendable, Equatable {
    /// `ATTACHMENT_MAX_BYTES`: the largest attachment accepted, in bytes after decoding
    /// (default 10 MiB).
    public var maxBytes: Int
    /// `ATTACHMENT_MAX_TOTAL_BYTES`: the most bytes all attachments of one message may add up to
    /// (default 25 MiB).
    public var maxTotalBytes: Int
    /// `ATTACHMENT_FETCH_TIMEOUT_SECONDS`: how long fetching one URL may take in all, redirects
    /// and name resolution included (default 30 s).
    public var fetchTimeout: Duration
    /// `ATTACHMENT_ALLOW_PRIVATE_ADDRESSES`: whether URLs may point to loopback, link-local,
    /// private, carrier-grade NAT, unspecified, multicast and reserved addresses (default false).
    ///
    /// Warning: with `true`, anyone who can write a mail document can make the service fetch
    /// from the machines around it, such as a cloud metadata endpoint, and mail the response.
    public var allowPrivateAddresses: Bool
    /// `ATTACHMENT_DIRECTORY`: the folder whose files a document may attach by path; `nil`
    /// (the default) allows no local file.
    ///
    /// Warning: anyone who can write a mail document can mail any file in this folder and
    /// below it to any address.
    public var allowedDirectory: String?

    public init(
        maxBytes: Int = 10 * 1024 * 1024, maxTotalBytes: Int = 25 * 1024 * 1024, fetchTimeout: Duration = .seconds(30),
        allowPrivateAddresses: Bool = false, allowedDirectory: String? = nil
    ) {
        self.maxBytes = maxBytes
        self.maxTotalBytes = maxTotalBytes
        self.fetchTimeout = fetchTimeout
        self.allowPrivateAddresses = allowPrivateAddresses
        self.allowedDirectory = allowedDirectory
    }
}
