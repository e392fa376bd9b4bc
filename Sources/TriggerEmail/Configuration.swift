import DocumentStore
import Foundation
import SMTP

/// Every setting of the service, loaded once at start from environment variables named as in
/// Firebase's Trigger Email extension, and from command-line flags of the same meaning.
public struct Configuration: Sendable {
    /// `DATABASE_URL`: `sqlite:PATH` or `postgres://...` (default `sqlite:trigger-email.db`).
    public var databaseURL: DatabaseURL
    /// `MAIL_COLLECTION`: the collection watched for mail documents (default `mail`).
    public var mailCollection: String
    /// `SMTP_CONNECTION_URI` with `SMTP_PASSWORD` and `TLS_OPTIONS`, or with `AUTH_TYPE=OAuth2`
    /// the variables of `OAuth2Settings`; `nil` writes messages to the outbox folder instead of
    /// sending them.
    public var smtp: SMTPServerConfiguration?
    /// `DEFAULT_FROM`: the sender when a document has no `from`.
    public var defaultFrom: String?
    /// `DEFAULT_REPLY_TO`: the Reply-To when a document has no `replyTo`.
    public var defaultReplyTo: String?
    /// `USERS_COLLECTION`: where `toUids`, `ccUids` and `bccUids` are looked up (field `email`).
    public var usersCollection: String?
    /// `TEMPLATES_COLLECTION`: where templates are kept.
    public var templatesCollection: String?
    /// `TTL_EXPIRE_TYPE` and `TTL_EXPIRE_VALUE` (default `never`, `1`).
    public var ttl: TTLPolicy
    /// `LEASE_SECONDS`: how long an attempt may stay `PROCESSING` before it counts as failed
    /// (default 60 s).
    public var lease: Duration
    /// `SMTP_POOL_SIZE`: SMTP connections open at once at most (default 4).
    public var smtpPoolSize: Int
    /// `MAX_CLAIMED_DOCUMENTS`: documents one process has claimed and not yet sent, at most
    /// (default 32 per SMTP connection).
    public var maxClaimedDocuments: Int?
    /// Messages sent over one SMTP connection before it is replaced (default 100; the
    /// `maxMessages` parameter of `SMTP_CONNECTION_URI`).
    public var smtpMaxMessagesPerConnection = 100
    /// `OUTBOX_DIR`: where messages go when no SMTP server is configured (default `outbox`).
    public var outboxDirectory: String
    /// `LOG_LEVEL`: `trace`, `debug`, `info` (default), `warning` or `error`.
    public var logLevel: String
    /// `ATTACHMENT_MAX_BYTES`, `ATTACHMENT_MAX_TOTAL_BYTES`, `ATTACHMENT_FETCH_TIMEOUT_SECONDS`,
    /// `ATTACHMENT_ALLOW_PRIVATE_ADDRESSES` and `ATTACHMENT_DIRECTORY`.
    public var attachments = AttachmentSettings()
    /// `DKIM_DOMAIN`, `DKIM_SELECTOR` and `DKIM_PRIVATE_KEY_FILE`; `nil` sends unsigned.
    public var dkim: DKIMSettings?
    /// `LISTEN`: where `serve` serves HTTP, `HOST:PORT` (default `127.0.0.1:8025`).
    public var listen = "127.0.0.1:8025"
    /// `API_TOKEN`: the bearer token the HTTP API requires; `nil` requires none.
    public var apiToken: String?
    /// `API_MAX_BODY_BYTES`: the largest request body the HTTP API accepts (default 32 MiB).
    public var apiMaxBodyBytes = 33_554_432

    public init(
        databaseURL: DatabaseURL = .sqlite(path: "trigger-email.db"), mailCollection: String = "mail",
        smtp: SMTPServerConfiguration? = nil, defaultFrom: String? = nil, defaultReplyTo: String? = nil,
        usersCollection: String? = nil, templatesCollection: String? = nil, ttl: TTLPolicy = TTLPolicy(),
        lease: Duration = .seconds(60), smtpPoolSize: Int = 4, outboxDirectory: String = "outbox", logLevel: String = "info"
    ) {
        self.databaseURL = databaseURL
        self.mailCollection = mailCollection
        self.smtp = smtp
        self.defaultFrom = defaultFrom
        self.defaultReplyTo = defaultReplyTo
        self.usersCollection = usersCollection
        self.templatesCollection = templatesCollection
        self.ttl = ttl
        self.lease = lease
        self.smtpPoolSize = smtpPoolSize
        self.outboxDirectory = outboxDirectory
        self.logLevel = logLevel
    }

    /// The variables this version reads, in the order the help text lists them.
    public static let variables: [(name: String, meaning: String)] = [
        ("DATABASE_URL", "sqlite:PATH or postgres://USER@HOST:5432/DATABASE (default sqlite:trigger-email.db)"),
        ("MAIL_COLLECTION", "collection watched for mail documents (default mail)"),
        ("SMTP_CONNECTION_URI", "smtp://user@host:587 (STARTTLS when offered) or smtps://user@host:465; unset writes to the outbox"),
        ("SMTP_PASSWORD", "password for SMTP AUTH, kept out of the URI and the logs"),
        ("TLS_OPTIONS", "JSON: {\"rejectUnauthorized\": false}, {\"ca\": \"PATH\"}, {\"servername\": \"NAME\"}, {\"minVersion\": \"TLSv1.3\"}"),
        ("AUTH_TYPE", "UsernamePassword (default: SMTP_CONNECTION_URI and SMTP_PASSWORD) or OAuth2 (AUTH XOAUTH2 with tokens from OAUTH_TOKEN_URL)"),
        ("HOST", "SMTP server host name with AUTH_TYPE=OAuth2, which ignores SMTP_CONNECTION_URI"),
        ("OAUTH_PORT", "SMTP server port with AUTH_TYPE=OAuth2 (default 465)"),
        ("OAUTH_SECURE", "true: TLS from the first byte; false: STARTTLS when offered (default true)"),
        ("USER", "mailbox to authenticate as with AUTH_TYPE=OAuth2; set it explicitly, because shells set USER to the login name"),
        ("CLIENT_ID", "OAuth2 client ID"),
        ("CLIENT_SECRET", "OAuth2 client secret, kept out of the logs"),
        ("REFRESH_TOKEN", "OAuth2 refresh token, kept out of the logs"),
        ("OAUTH_TOKEN_URL", "OAuth2 token endpoint, https or loopback http (default https://oauth2.googleapis.com/token)"),
        ("DEFAULT_FROM", "sender when a document has no from"),
        ("DEFAULT_REPLY_TO", "Reply-To when a document has no replyTo"),
        ("USERS_COLLECTION", "collection where toUids/ccUids/bccUids are looked up (field email)"),
        ("TEMPLATES_COLLECTION", "collection of Handlebars templates that a document's template field names"),
        ("TTL_EXPIRE_TYPE", "never, hour, day, week, month or year: sets delivery.expireAt (default never)"),
        ("TTL_EXPIRE_VALUE", "how many TTL_EXPIRE_TYPE units (default 1)"),
        ("LEASE_SECONDS", "seconds an attempt may stay PROCESSING before it counts as failed (default 60)"),
        ("SMTP_POOL_SIZE", "SMTP connections open at once at most (default 4)"),
        ("MAX_CLAIMED_DOCUMENTS", "documents one process has claimed and not yet sent, at most (default 32 per SMTP connection)"),
        ("OUTBOX_DIR", "folder for messages when SMTP_CONNECTION_URI is unset (default outbox)"),
        ("LOG_LEVEL", "trace, debug, info, notice, warning or error (default info)"),
        ("ATTACHMENT_MAX_BYTES", "maximum size of one attachment in bytes, after decoding (default 10485760)"),
        ("ATTACHMENT_MAX_TOTAL_BYTES", "maximum size of all attachments of one message in bytes (default 26214400)"),
        ("ATTACHMENT_FETCH_TIMEOUT_SECONDS", "seconds fetching one attachment URL may take, redirects included (default 30)"),
        ("ATTACHMENT_ALLOW_PRIVATE_ADDRESSES", "true lets attachment URLs reach loopback, private, link-local and other non-public addresses (default false)"),
        ("ATTACHMENT_DIRECTORY", "folder whose files documents may attach by path (default unset: no local files)"),
        ("DKIM_DOMAIN", "domain that signs messages with DKIM, d= (default unset: no signature)"),
        ("DKIM_SELECTOR", "DKIM selector, s=; the public key is at SELECTOR._domainkey.DKIM_DOMAIN"),
        ("DKIM_PRIVATE_KEY_FILE", "PEM file with the RSA or Ed25519 private key for DKIM"),
        ("LISTEN", "address of serve's HTTP API and dashboard, HOST:PORT (default 127.0.0.1:8025)"),
        ("API_TOKEN", "bearer token the HTTP API requires; needed when LISTEN is not a loopback address"),
        ("API_MAX_BODY_BYTES", "largest request body the HTTP API accepts, in bytes (default 33554432)"),
    ]

    /// Loads the configuration from `environment`, with `flags` (variable name to value, from
    /// the command line) taking precedence. Throws for the first value that cannot be used.
    ///
    /// Commands that only read or write documents pass `readsSMTPSettings: false`, so that a
    /// sending setting they do not use cannot stop them. `smtp` and `dkim` are then `nil`.
    public static func load(
        environment: [String: String], flags: [String: String] = [:], readsSMTPSettings: Bool = true
    ) throws(ConfigurationError) -> Configuration {
        let settings = environment.merging(flags) { _, flag in flag }
        func value(_ name: String) -> String? {
            guard let text = settings[name], !text.isEmpty else { return nil }
            return text
        }

        var configuration = Configuration()

        if let url = value("DATABASE_URL") {
            configuration.databaseURL = try DatabaseURL.parse(url)
        }
        configuration.mailCollection = try collectionName("MAIL_COLLECTION", value("MAIL_COLLECTION")) ?? "mail"
        configuration.usersCollection = try collectionName("USERS_COLLECTION", value("USERS_COLLECTION"))
        configuration.templatesCollection = try collectionName("TEMPLATES_COLLECTION", value("TEMPLATES_COLLECTION"))
        configuration.defaultFrom = value("DEFAULT_FROM")
        configuration.defaultReplyTo = value("DEFAULT_REPLY_TO")
        configuration.outboxDirectory = value("OUTBOX_DIR") ?? "outbox"

        if let type = value("TTL_EXPIRE_TYPE") {
            guard let unit = TTLPolicy.Unit(rawValue: type.lowercased()) else {
                throw ConfigurationError(variable: "TTL_EXPIRE_TYPE", message: "\"\(type)\" is not one of never, hour, day, week, month, year.")
            }
            configuration.ttl.unit = unit
        }
        if let text = value("TTL_EXPIRE_VALUE") {
            configuration.ttl.value = try positiveInteger("TTL_EXPIRE_VALUE", text)
        }
        // Both bounds keep every timestamp within four-digit years, so timestamps still sort
        // as text. A century of TTL and a week of lease are far beyond any real use.
        let maxTTL = configuration.ttl.unit.maxValueForOneHundredYears
        guard configuration.ttl.value <= maxTTL else {
            throw ConfigurationError(
                variable: "TTL_EXPIRE_VALUE",
                message: "\(configuration.ttl.value) \(configuration.ttl.unit.rawValue)s is more than 100 years; use at most \(maxTTL).")
        }
        if let text = value("LEASE_SECONDS") {
            let seconds = try positiveInteger("LEASE_SECONDS", text)
            guard seconds <= 604_800 else {
                throw ConfigurationError(variable: "LEASE_SECONDS", message: "\(seconds) is more than a week; use at most 604800.")
            }
            configuration.lease = .seconds(seconds)
        }
        if let text = value("SMTP_POOL_SIZE") {
            configuration.smtpPoolSize = try positiveInteger("SMTP_POOL_SIZE", text)
        }
        if let text = value("MAX_CLAIMED_DOCUMENTS") {
            configuration.maxClaimedDocuments = try positiveInteger("MAX_CLAIMED_DOCUMENTS", text)
        }
        if let level = value("LOG_LEVEL") {
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level.lowercased()) else {
                throw ConfigurationError(variable: "LOG_LEVEL", message: "\"\(level)\" is not one of trace, debug, info, notice, warning, error.")
            }
            configuration.logLevel = level.lowercased()
        }
        configuration.attachments = try attachmentSettings(value)
        configuration.listen = value("LISTEN") ?? configuration.listen
        if let token = value("API_TOKEN") {
            // The token guards every document, so one that is easy to guess is refused.
            guard token.count >= 16, !token.contains(where: { $0.isWhitespace || $0.isNewline }) else {
                throw ConfigurationError(
                    variable: "API_TOKEN",
                    message: "the token must be at least 16 characters without spaces; use a long random string, such as the output of openssl rand -hex 32.")
            }
            configuration.apiToken = token
        }
        if let text = value("API_MAX_BODY_BYTES") {
            configuration.apiMaxBodyBytes = try positiveInteger("API_MAX_BODY_BYTES", text)
        }

        guard readsSMTPSettings else { return configuration }
        configuration.dkim = try DKIMSettings.load(value)
        if let oauth2 = try OAuth2Settings.load(value) {
            let tls = try value(TLSOptions.variable).map { (text: String) throws(ConfigurationError) in try TLSOptions.parse(text) }
            configuration.smtp = oauth2.serverConfiguration(tls: tls ?? TLSConfiguration(), tokens: OAuth2TokenProvider(settings: oauth2))
        } else if let uri = value(SMTPConnectionURI.variable) {
            let (smtp, options) = try smtpConfiguration(uri: uri, password: value("SMTP_PASSWORD"), tlsOptions: value(TLSOptions.variable))
            configuration.smtp = smtp
            if let maxConnections = options.maxConnections { configuration.smtpPoolSize = maxConnections }
            if let maxMessages = options.maxMessages { configuration.smtpMaxMessagesPerConnection = maxMessages }
        } else if value(TLSOptions.variable) != nil {
            _ = try TLSOptions.parse(value(TLSOptions.variable)!)
        }
        return configuration
    }

    private static func smtpConfiguration(
        uri: String, password: String?, tlsOptions: String?
    ) throws(ConfigurationError) -> (SMTPServerConfiguration, SMTPURIOptions) {
        let parsed = try SMTPConnectionURI.parse(uri)
        let tls = try tlsOptions.map { (text: String) throws(ConfigurationError) in try TLSOptions.parse(text) } ?? TLSConfiguration()

        var credentials: Credentials?
        if let user = parsed.user {
            guard let password = password ?? parsed.password else {
                throw ConfigurationError(
                    variable: "SMTP_PASSWORD",
                    message: "SMTP_CONNECTION_URI names the user \(user) but no password is set; set SMTP_PASSWORD.")
            }
            credentials = Credentials(user: user, password: password)
        }
        var server = SMTPServerConfiguration(
            host: parsed.host, port: parsed.port, security: parsed.security, tls: tls, authentication: credentials.map(SMTPAuthentication.password))
        parsed.options.apply(to: &server)
        return (server, parsed.options)
    }

    private static func attachmentSettings(_ value: (String) -> String?) throws(ConfigurationError) -> AttachmentSettings {
        var settings = AttachmentSettings()
        if let text = value("ATTACHMENT_MAX_BYTES") {
            settings.maxBytes = try positiveInteger("ATTACHMENT_MAX_BYTES", text)
        }
        if let text = value("ATTACHMENT_MAX_TOTAL_BYTES") {
            settings.maxTotalBytes = try positiveInteger("ATTACHMENT_MAX_TOTAL_BYTES", text)
        }
        if let text = value("ATTACHMENT_FETCH_TIMEOUT_SECONDS") {
            settings.fetchTimeout = .seconds(try positiveInteger("ATTACHMENT_FETCH_TIMEOUT_SECONDS", text))
        }
        if let text = value("ATTACHMENT_ALLOW_PRIVATE_ADDRESSES") {
            switch text.lowercased() {
            case "true": settings.allowPrivateAddresses = true
            case "false": settings.allowPrivateAddresses = false
            default:
                throw ConfigurationError(variable: "ATTACHMENT_ALLOW_PRIVATE_ADDRESSES", message: "\"\(text)\" is not true or false.")
            }
        }
        settings.allowedDirectory = value("ATTACHMENT_DIRECTORY")
        return settings
    }

    private static func positiveInteger(_ variable: String, _ text: String) throws(ConfigurationError) -> Int {
        guard let number = Int(text), number > 0 else {
            throw ConfigurationError(variable: variable, message: "\"\(text)\" is not a whole number greater than 0.")
        }
        return number
    }

    private static func collectionName(_ variable: String, _ text: String?) throws(ConfigurationError) -> String? {
        guard let text else { return nil }
        do {
            try DocumentID.validateCollection(text)
        } catch {
            throw ConfigurationError(variable: variable, message: "\"\(text)\" may contain only letters, digits, '-' and '_' (up to 128).")
        }
        return text
    }
}

/// `DATABASE_URL`.
public enum DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    /// A libpq connection URI, `postgres://` or `postgresql://`.
    case postgres(url: String)

    static func parse(_ text: String) throws(ConfigurationError) -> DatabaseURL {
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else {
                throw ConfigurationError(variable: "DATABASE_URL", message: "the SQLite file path is missing; write sqlite:trigger-email.db.")
            }
            return .sqlite(path: path)
        }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            guard URLComponents(string: text) != nil else {
                throw ConfigurationError(
                    variable: "DATABASE_URL",
                    message: "the PostgreSQL URL is invalid; write postgres://USER@HOST:5432/DATABASE and percent-encode special characters.")
            }
            return .postgres(url: text)
        }
        // Only the scheme is shown, because the rest of a URL may contain a password.
        let mayHoldPassword = text.contains("@") || text.lowercased().contains("password")
        let namedValue = text.range(of: "://").map { "the scheme \"\(text[..<$0.lowerBound])\"" }
            ?? (mayHoldPassword ? "the value" : "\"\(text)\"")
        throw ConfigurationError(
            variable: "DATABASE_URL", message: "\(namedValue) is not a database URL; write sqlite:PATH or postgres://USER@HOST:5432/DATABASE.")
    }

    /// The URL with any password replaced by `***`, fit for logs.
    public var description: String {
        switch self {
        case .sqlite(let path):
            return "sqlite:\(path)"
        case .postgres(let url):
            guard var components = URLComponents(string: url) else { return "postgres://(invalid URL)" }
            if components.password != nil { components.password = "***" }
            components.queryItems = components.queryItems?.map { item in
                item.name == "password" ? URLQueryItem(name: item.name, value: "***") : item
            }
            return components.string ?? "postgres://(invalid URL)"
        }
    }
}
