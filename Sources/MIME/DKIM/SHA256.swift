import COpenSSL

/// SHA-256 through OpenSSL, for the DKIM body hash and the Ed25519 header hash.
enum SHA256 {
    static let digestLength = 32

    static func hash(_ bytes: [UInt8]) throws(DKIMError) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0

        try OpenSSLCall.check("EVP_Digest", failure: "Cannot compute a SHA-256 hash for the DKIM signature") {
            bytes.withUnsafeBytes { input in
                EVP_Digest(input.baseAddress, input.count, &digest, &length, EVP_sha256(), nil)
            }
        }
        return Array(digest.prefix(Int(length)))
    }
}
