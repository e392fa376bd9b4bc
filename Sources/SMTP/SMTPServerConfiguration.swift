/// The SMTP server's address and connection settings, read from `SMTP_CONNECTION_URI`, `SMTP_PASSWORD`
/// and `TLS_OPTIONS`, or with `AUTH_TYPE=OAuth2` from `HOST`, `OAUTH_PORT` and `OAUTH_SECURE`.
public struct SMTPServerConfiguration: Sendable, Equatable {
    public enum Security: Sendable, Equatable {
        /// `smtp://`: plain TCP, upgraded with STARTTLS whenever the server offers it.
        case startTLSWhenOffered
        /// `smtps://`: TLS from the first byte (RFC 8314 implicit TLS).
        case implicitTLS
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var tls: TLSConfiguration
    /// The AUTH mechanism and its credentials; `nil` sends no AUTH.
    public var authentication: SMTPAuthentication?
    /// The name this client gives in EHLO.
    public var heloName: String
    public var timeouts: SMTPTimeouts
    /// For `smtp://`: whether STARTTLS is used, required or skipped.
    public var startTLS: STARTTLSPolicy = .whenOffered

    public init(
        host: String, port: Int, security: Security, tls: TLSConfiguration = TLSConfiguration(),
        authentication: SMTPAuthentication? = nil, heloName: String = "localhost", timeouts: SMTPTimeouts = SMTPTimeouts()
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.tls = tls
        self.authentication = authentication
        self.heloName = heloName
        self.timeouts = timeouts
    }

    /// The user and password for AUTH PLAIN or LOGIN; `nil` with XOAUTH2 or without AUTH.
    /// Setting it replaces `authentication`.
    public var credentials: Credentials? {
        get {
            guard case .password(let credentials)? = authentication else { return nil }
            return credentials
        }
        set { authentication = newValue.map(SMTPAuthentication.password) }
    }

    /// `host:port`, bracketing an IPv6 literal, as errors and logs show the server.
    public var serverDescription: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// The way the client proves its identity to the server: a password or an OAuth 2.0 token.
public enum SMTPAuthentication: Sendable, Equatable, CustomStringConvertible {
    /// AUTH PLAIN, or AUTH LOGIN when the server offers only that.
    case password(Credentials)
    /// AUTH XOAUTH2 as `user`, with bearer tokens from `tokens`. A rejected token is replaced by
    /// a new one once per message.
    case oauth2(user: String, tokens: any AccessTokenProvider)

    /// The user name sent in AUTH.
    public var user: String {
        switch self {
        case .password(let credentials): credentials.user
        case .oauth2(let user, _): user
        }
    }

    public var description: String {
        switch self {
        case .password(let credentials): credentials.description
        case .oauth2(let user, _): "\(user) (OAuth2 access token)"
        }
    }

    /// Two token providers are equal only when they are the same object, because a provider
    /// has no value to compare.
    public static func == (lhs: SMTPAuthentication, rhs: SMTPAuthentication) -> Bool {
        switch (lhs, rhs) {
        case (.password(let left), .password(let right)):
            left == right
        case (.oauth2(let leftUser, let leftTokens), .oauth2(let rightUser, let rightTokens)):
            leftUser == rightUser && (leftTokens as AnyObject) === (rightTokens as AnyObject)
        default:
            false
        }
    }
}

/// A user name and password for SMTP AUTH. The password never appears in `description`.
public struct Credentials: Sendable, Equatable, CustomStringConvertible {
    public var user: String
    public var password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    public var description: String { "\(user) (password redacted)" }
}

/// The client's checks of the server's certificate.
public struct TLSConfiguration: Sendable, Equatable {
    /// Whether the certificate chain and host name are checked. Turning this off lets anyone
    /// between the client and the server read the mail and the password.
    public var verifiesCertificate: Bool
    /// A PEM file of CA certificates to trust instead of the system's.
    public var caFile: String?
    /// The name to expect in the certificate and send in SNI, when it differs from the host.
    public var serverName: String?
    /// The oldest TLS version accepted; TLS 1.2 unless set higher.
    public var minimumVersion: TLSVersion = .tls12

    public init(verifiesCertificate: Bool = true, caFile: String? = nil, serverName: String? = nil) {
        self.verifiesCertificate = verifiesCertificate
        self.caFile = caFile
        self.serverName = serverName
    }
}

/// How long each step of an SMTP session may take before it counts as failed.
public struct SMTPTimeouts: Sendable, Equatable {
    /// The TCP connection, for each address the host name resolves to.
    public var connect: Duration
    /// The server's 220 greeting, and the TLS handshake.
    public var greeting: Duration
    /// The reply to each command.
    public var command: Duration
    /// Sending the message data and receiving the reply to its final dot.
    public var data: Duration

    public init(
        connect: Duration = .seconds(10), greeting: Duration = .seconds(30), command: Duration = .seconds(30),
        data: Duration = .seconds(120)
    ) {
        self.connect = connect
        self.greeting = greeting
        self.command = command
        self.data = data
    }
}

/// TLS versions the client can require as a minimum. Versions before 1.2 are not offered at
/// all, because RFC 8996 deprecates them.
public enum TLSVersion: String, Sendable, Equatable {
    case tls12 = "TLSv1.2"
    case tls13 = "TLSv1.3"
}
