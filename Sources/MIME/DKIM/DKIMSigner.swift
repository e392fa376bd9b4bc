import Foundation

/// Signs composed messages with DKIM (RFC 6376), so that receivers can check that the signing
/// domain sent them and that the signed header fields and the body arrived unchanged.
///
/// The algorithm follows the key: `rsa-sha256` for an RSA key of at least 1024 bits, and
/// `ed25519-sha256` (RFC 8463) for an Ed25519 key. Canonicalization is always
/// `relaxed/relaxed`, which survives the whitespace changes and refolding that relays make.
/// OpenSSL does all the cryptography. One signer may sign from many tasks at once.
///
/// The public key goes in DNS as a TXT record at `<selector>._domainkey.<domain>`:
/// `v=DKIM1; k=rsa; p=<base64 SubjectPublicKeyInfo>` for RSA, or
/// `v=DKIM1; k=ed25519; p=<base64 of the 32-byte public key>` for Ed25519.
public struct DKIMSigner: Sendable {
    /// The signing domain (`d=`), whose DNS zone publishes the public key.
    public let domain: String
    /// The selector (`s=`), which picks one of the domain's keys.
    public let selector: String
    /// The header fields to sign when present, as configured. Names are matched without regard
    /// to case.
    public let signedHeaderNames: [String]
    private let key: DKIMPrivateKey
    private let lowercasedSignedHeaderNames: [String]

    /// The algorithm of the `a=` tag, which follows the key type.
    public var algorithm: DKIMAlgorithm { key.algorithm }

    /// The header fields signed by default. They are the fields of RFC 6376 section 5.4.1's
    /// recommendation that this service can write, and the MIME fields that decide how the body
    /// is read. They include List-Unsubscribe and List-Unsubscribe-Post, because RFC 8058
    /// one-click unsubscribe requires a DKIM signature to cover both.
    public static let defaultSignedHeaders: [String] = [
        "From", "Reply-To", "Sender", "Subject", "Date", "To", "Cc", "Message-ID", "In-Reply-To", "References",
        "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
        "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Help", "List-Subscribe", "List-Post",
        "List-Owner", "List-Archive",
    ]

    /// Loads a PEM private key (PKCS#8 or traditional RSA); the algorithm follows the key type.
    ///
    /// Throws when the domain or selector is not a valid DNS name, or when `signedHeaderNames`
    /// lacks From or has a name that cannot be a header field name. Also throws when the key
    /// cannot be read, is encrypted, is neither RSA nor Ed25519, or is an RSA key under 1024
    /// bits.
    public init(
        domain: String, selector: String, privateKeyPEM: String, signedHeaderNames: [String] = DKIMSigner.defaultSignedHeaders
    ) throws(DKIMError) {
        try Self.validateDomain(domain)
        try Self.validateSelector(selector, domain: domain)
        try Self.validateSignedHeaderNames(signedHeaderNames)

        self.domain = domain
        self.selector = selector
        self.signedHeaderNames = signedHeaderNames
        self.lowercasedSignedHeaderNames = signedHeaderNames.map { $0.lowercased() }
        self.key = try DKIMPrivateKey(pem: privateKeyPEM)
    }

    /// Returns the message with a `DKIM-Signature` header field prepended. `message` is a
    /// complete RFC 5322 message with CRLF line ends; `time` becomes t=.
    ///
    /// Every configured header field present in the message is signed, each occurrence once,
    /// and From once more so that a From added later breaks the signature. Throws when the
    /// message has no empty line after its header section, has a malformed header line, or has
    /// no From field, and when OpenSSL fails.
    public func sign(_ message: [UInt8], at time: Date) throws(DKIMError) -> [UInt8] {
        let parts = try RawMessage(message)

        // Body hash (RFC 6376 section 3.7, step 1).
        let canonicalBody = DKIMCanonicalization.relaxedBody(parts.body)
        let bodyHash = Base64.encode(try SHA256.hash(canonicalBody))

        let selection = try DKIMHeaderSelection(lowercasedNames: lowercasedSignedHeaderNames, fields: parts.fields)
        let field = DKIMSignatureField(
            algorithm: algorithm, domain: domain, selector: selector,
            timestamp: max(0, Int64(time.timeIntervalSince1970.rounded(.down))),
            signedHeaderNames: selection.tagNames, bodyHash: bodyHash)

        // Header hash input (RFC 6376 section 3.7, step 2): the selected fields, then the
        // DKIM-Signature field with an empty b= value and without its final CRLF.
        var headerData = selection.canonicalizedFields
        headerData += DKIMCanonicalization.relaxedHeader(Array(field.unsigned.utf8)[...]).dropLast(2)

        let signature = try key.sign(headerData)
        return Array(field.signed(with: Base64.encode(signature)).utf8) + message
    }
}
