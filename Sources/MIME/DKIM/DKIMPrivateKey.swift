import COpenSSL

/// A DKIM signing key read from PEM: RSA of at least 1024 bits, or Ed25519.
///
/// OpenSSL objects may be used from several threads at once as long as no call changes them
/// (openssl-threads(7), OpenSSL 3.0). Signing only reads the key and every signature gets its
/// own `EVP_MD_CTX`, so one key serves concurrent `sign` calls.
final class DKIMPrivateKey: @unchecked Sendable {
    /// RFC 8301 section 3.2: signers must use RSA keys of at least 1024 bits.
    static let minimumRSABits = 1024

    let algorithm: DKIMAlgorithm
    private let key: OpaquePointer

    /// Reads a PKCS#8 (`BEGIN PRIVATE KEY`) or traditional RSA (`BEGIN RSA PRIVATE KEY`) key.
    init(pem: String) throws(DKIMError) {
        let key = try Self.readPrivateKey(pem)
        do {
            algorithm = try Self.algorithm(for: key)
        } catch {
            EVP_PKEY_free(key)
            throw error
        }
        self.key = key
    }

    deinit {
        EVP_PKEY_free(key)
    }

    // MARK: - Loading

    private static func readPrivateKey(_ pem: String) throws(DKIMError) -> OpaquePointer {
        // The signer has no passphrase to offer, so an encrypted key is rejected here with a
        // clear message. The callback below also returns none, so OpenSSL never prompts on the
        // terminal.
        if pem.contains("ENCRYPTED PRIVATE KEY") || pem.contains("Proc-Type: 4,ENCRYPTED") {
            throw DKIMError(
                "The DKIM private key is encrypted with a passphrase, so decrypt it first, for example with `openssl pkey -in KEY -out KEY.pem`")
        }

        // OpenSSL reads from a memory BIO that must outlive the read, so the PEM goes into a
        // buffer of our own, which is wiped before it is freed because it contains the secret.
        let text = Array(pem.utf8)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(text.count, 1), alignment: 1)
        defer {
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            buffer.deallocate()
        }
        buffer.copyBytes(from: text)

        let reason = "Cannot read the DKIM private key as a PEM private key (PKCS#8 or traditional RSA)"
        let bio = try OpenSSLCall.make("BIO_new_mem_buf", failure: reason) {
            BIO_new_mem_buf(buffer.baseAddress, Int32(clamping: text.count))
        }
        defer { BIO_free(bio) }

        return try OpenSSLCall.make("PEM_read_bio_PrivateKey", failure: reason) {
            PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil)
        }
    }

    private static func algorithm(for key: OpaquePointer) throws(DKIMError) -> DKIMAlgorithm {
        switch EVP_PKEY_get_base_id(key) {
        case EVP_PKEY_RSA:
            let bits = Int(EVP_PKEY_get_bits(key))
            guard bits >= minimumRSABits else {
                throw DKIMError(
                    "The DKIM private key is a \(bits)-bit RSA key, but DKIM requires at least \(minimumRSABits) bits (RFC 8301), so generate a 2048-bit key")
            }
            return .rsaSHA256
        case EVP_PKEY_ED25519:
            return .ed25519SHA256
        default:
            let typeName = EVP_PKEY_get0_type_name(key).map { String(cString: $0) } ?? "unknown"
            throw DKIMError(
                "The DKIM private key is of type \(typeName), but DKIM signing supports only RSA (rsa-sha256) and Ed25519 (ed25519-sha256) keys")
        }
    }

    // MARK: - Signing

    /// Signs the canonicalized header data (RFC 6376 section 3.7): RSA PKCS#1 v1.5 over its
    /// SHA-256 hash, or Ed25519 (PureEdDSA) over its SHA-256 hash as RFC 8463 section 3 specifies.
    func sign(_ headerData: [UInt8]) throws(DKIMError) -> [UInt8] {
        let context = try OpenSSLCall.make("EVP_MD_CTX_new", failure: "Cannot create an OpenSSL signing context") {
            EVP_MD_CTX_new()
        }
        defer { EVP_MD_CTX_free(context) }

        let reason = "Cannot sign the message with the \(algorithm.rawValue) DKIM key"
        switch algorithm {
        case .rsaSHA256:
            var keyContext: OpaquePointer?
            try OpenSSLCall.check("EVP_DigestSignInit", failure: reason) {
                EVP_DigestSignInit(context, &keyContext, EVP_sha256(), nil, key)
            }
            try OpenSSLCall.check("EVP_PKEY_CTX_set_rsa_padding", failure: reason) {
                EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PADDING)
            }
            return try Self.digestSign(context, headerData, failure: reason)

        case .ed25519SHA256:
            // Ed25519 takes no digest of its own in OpenSSL (the digest argument must be NULL),
            // so the SHA-256 hash is computed first and signed as the message.
            let hash = try SHA256.hash(headerData)
            try OpenSSLCall.check("EVP_DigestSignInit", failure: reason) {
                EVP_DigestSignInit(context, nil, nil, nil, key)
            }
            return try Self.digestSign(context, hash, failure: reason)
        }
    }

    private static func digestSign(_ context: OpaquePointer, _ data: [UInt8], failure reason: String) throws(DKIMError) -> [UInt8] {
        var length = 0
        try OpenSSLCall.check("EVP_DigestSign", failure: reason) {
            data.withUnsafeBufferPointer { input in
                EVP_DigestSign(context, nil, &length, input.baseAddress, input.count)
            }
        }

        var signature = [UInt8](repeating: 0, count: length)
        try OpenSSLCall.check("EVP_DigestSign", failure: reason) {
            data.withUnsafeBufferPointer { input in
                EVP_DigestSign(context, &signature, &length, input.baseAddress, input.count)
            }
        }
        return Array(signature.prefix(length))
    }
}
