/// The report of `trigger-email check-smtp` on the configured server, made without sending mail.
public struct SMTPServerCheck: Sendable {
    /// The 220 greeting.
    public var greeting: String
    /// The EHLO keywords with their parameters, after STARTTLS when it was used.
    public var extensions: [String: String]
    /// The negotiated TLS version, or `nil` in clear text.
    public var tlsVersion: String?
    public var certificate: CertificateSummary?
    /// Whether AUTH succeeded: `nil` when no credentials are configured.
    public var authenticated: Bool?
    /// The AUTH failure, with the server's reply.
    public var authenticationError: String?
}

/// The parts of a server certificate a person checks.
public struct CertificateSummary: Sendable, Equatable {
    public var subject: String
    public var issuer: String
    /// The end of validity as OpenSSL prints it, such as `Dec  4 19:21:41 2027 GMT`.
    public var expires: String
}
