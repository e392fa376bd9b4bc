/// A DKIM signing algorithm, named as in the signature's `a=` tag.
public enum DKIMAlgorithm: String, Sendable, Equatable {
    /// RSA PKCS#1 v1.5 over SHA-256 (RFC 6376 section 3.3.1).
    case rsaSHA256 = "rsa-sha256"
    /// PureEdDSA Ed25519 over the SHA-256 hash of the header data (RFC 8463 section 3).
    case ed25519SHA256 = "ed25519-sha256"
}
