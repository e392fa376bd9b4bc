/// The SMTP server's address and connection settings, read from `SMTP_CONNECTION_URI`, `SMTP_PASSWORD`
/// and `TLS_OPTIONS`.
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
    /// The user and password for AUTH; `nil` sends no AUTH.
    public var credentials: Credentials?
    /// The name this client gives in EHLO.
    public var heloName: String
    public var timeouts: SMTPTimeouts

    public init(
        host: String, port: Int, security: Security, tls: TLSConfiguration = TLSConfiguration(),
        credentials: Credentials? = nil, heloName: String = "localhost", timeouts: SMTPTimeouts = SMTPTimeouts()
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.tls = tls
        self.credentials = credentials
        self.heloName = heloName
        self.timeouts = timeouts
    }

    /// `host:port`, bracketing an IPv6 literal, as errors and logs show the server.
    public var serverDescription: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
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
