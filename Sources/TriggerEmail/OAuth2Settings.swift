import Foundation
import SMTP

/// `AUTH_TYPE=OAuth2` and its variables, named as in Firebase's Trigger Email extension: the
/// client authenticates with AUTH XOAUTH2, using access tokens that the token endpoint issues
/// for `REFRESH_TOKEN`.
///
/// As in the extension, `HOST`, `OAUTH_PORT` and `OAUTH_SECURE` then name the SMTP server, and
/// `SMTP_CONNECTION_URI` and `SMTP_PASSWORD` are ignored. Unlike the extension, `TLS_OPTIONS`
/// applies here too, and `OAUTH_TOKEN_URL` selects a token endpoint other than Google's.
///
/// `clientSecret` and `refreshToken` never appear in `description` or in an error.
public struct OAuth2Settings: Sendable, Equatable, CustomStringConvertible {
    /// `CLIENT_ID`: the OAuth 2.0 client that the refresh token was issued to.
    public var clientID: String
    /// `CLIENT_SECRET`: the client's secret. Anyone who has it and the refresh token can send
    /// mail as `user`.
    public var clientSecret: String
    /// `REFRESH_TOKEN`: the long-lived token traded for access tokens.
    public var refreshToken: String
    /// `USER`: the mailbox to authenticate as, usually an email address.
    ///
    /// NOTE: shells set `USER` to the login name, so a service started without an explicit
    /// `USER` authenticates as that name, and the server rejects the token.
    public var user: String
    /// `HOST`: the SMTP server's host name or IP address.
    public var host: String
    /// `OAUTH_PORT`: the SMTP server's port (default 465).
    public var port: Int
    /// `OAUTH_SECURE`: `true` (default) for TLS from the first byte, `false` for plain TCP
    /// upgraded with STARTTLS when the server offers it.
    public var security: SMTPServerConfiguration.Security
    /// `OAUTH_TOKEN_URL`: the token endpoint (default `https://oauth2.googleapis.com/token`).
    public var tokenURL: URL

    public static let defaultTokenURL = URL(string: "https://oauth2.googleapis.com/token")!

    public init(
        clientID: String, clientSecret: String, refreshToken: String, user: String, host: String, port: Int = 465,
        security: SMTPServerConfiguration.Security = .implicitTLS, tokenURL: URL = OAuth2Settings.defaultTokenURL
    ) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.refreshToken = refreshToken
        self.user = user
        self.host = host
        self.port = port
        self.security = security
        self.tokenURL = tokenURL
    }

    public var description: String {
        let scheme = security == .implicitTLS ? "smtps" : "smtp"
        let server = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        return "XOAUTH2 as \(user) at \(scheme)://\(server), client \(clientID), tokens from \(tokenURL.absoluteString)"
    }

    /// Reads `AUTH_TYPE` and, when it is `OAuth2`, the variables of this mode. Returns `nil` for
    /// `UsernamePassword`, which ignores the other variables as the extension does.
    static func load(_ value: (String) -> String?) throws(ConfigurationError) -> OAuth2Settings? {
        guard try usesOAuth2(value("AUTH_TYPE")) else { return nil }

        let required = ["CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN", "USER", "HOST"]
        let missing = required.filter { value($0) == nil }
        guard missing.isEmpty, let clientID = value("CLIENT_ID"), let clientSecret = value("CLIENT_SECRET"),
            let refreshToken = value("REFRESH_TOKEN"), let user = value("USER"), let host = value("HOST")
        else {
            throw ConfigurationError(
                variable: missing.joined(separator: ", "),
                message: "AUTH_TYPE=OAuth2 needs \(required.joined(separator: ", ")); set the missing ones.")
        }

        var settings = OAuth2Settings(
            clientID: try plainText("CLIENT_ID", clientID), clientSecret: try secret("CLIENT_SECRET", clientSecret),
            refreshToken: try secret("REFRESH_TOKEN", refreshToken), user: try plainText("USER", user),
            host: try hostName(host))
        if let text = value("OAUTH_PORT") {
            settings.port = try port(text)
        }
        if let text = value("OAUTH_SECURE") {
            settings.security = try security(text)
        }
        if let text = value("OAUTH_TOKEN_URL") {
            settings.tokenURL = try tokenURL(text)
        }
        return settings
    }

    /// Returns the SMTP server configuration for these settings, with `tokens` as the source of
    /// access tokens.
    public func serverConfiguration(tls: TLSConfiguration, tokens: any AccessTokenProvider) -> SMTPServerConfiguration {
        SMTPServerConfiguration(
            host: host, port: port, security: security, tls: tls, authentication: .oauth2(user: user, tokens: tokens))
    }

    // MARK: - Parsing

    private static func usesOAuth2(_ text: String?) throws(ConfigurationError) -> Bool {
        guard let text else { return false }
        switch text.lowercased() {
        case "usernamepassword": return false
        case "oauth2": return true
        default:
            throw ConfigurationError(variable: "AUTH_TYPE", message: "\"\(text)\" is not UsernamePassword or OAuth2.")
        }
    }

    /// Checks a value that goes into the XOAUTH2 line or a form field and may be shown.
    private static func plainText(_ variable: String, _ text: String) throws(ConfigurationError) -> String {
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ConfigurationError(variable: variable, message: "\"\(text.debugDescription.dropFirst().dropLast())\" contains a control character.")
        }
        return text
    }

    /// Checks a secret without ever quoting it.
    private static func secret(_ variable: String, _ text: String) throws(ConfigurationError) -> String {
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ConfigurationError(
                variable: variable, message: "the value contains a control character, such as a line break copied with it.")
        }
        return text
    }

    private static func hostName(_ text: String) throws(ConfigurationError) -> String {
        var host = text
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        let colonCount = host.filter { $0 == ":" }.count
        guard colonCount != 1 else {
            throw ConfigurationError(variable: "HOST", message: "\"\(text)\" contains a port; put the port in OAUTH_PORT.")
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-:_".contains($0)) }) else {
            throw ConfigurationError(variable: "HOST", message: "\"\(text)\" is not a host name or IP address, such as smtp.gmail.com.")
        }
        return host
    }

    private static func port(_ text: String) throws(ConfigurationError) -> Int {
        guard let port = Int(text), (1...65535).contains(port) else {
            throw ConfigurationError(variable: "OAUTH_PORT", message: "\"\(text)\" is not a port between 1 and 65535.")
        }
        return port
    }

    private static func security(_ text: String) throws(ConfigurationError) -> SMTPServerConfiguration.Security {
        switch text.lowercased() {
        case "true": return .implicitTLS
        case "false": return .startTLSWhenOffered
        default:
            throw ConfigurationError(
                variable: "OAUTH_SECURE", message: "\"\(text)\" is not true (TLS from the start) or false (STARTTLS).")
        }
    }

    /// Accepts https, and http only to this machine, because the request carries the client
    /// secret and the refresh token.
    private static func tokenURL(_ text: String) throws(ConfigurationError) -> URL {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty, let url = components.url
        else {
            throw ConfigurationError(
                variable: "OAUTH_TOKEN_URL", message: "\"\(text)\" is not a URL such as https://oauth2.googleapis.com/token.")
        }
        guard components.user == nil, components.password == nil else {
            throw ConfigurationError(
                variable: "OAUTH_TOKEN_URL", message: "the URL contains a user name or password; remove it, the client secret goes in CLIENT_SECRET.")
        }
        switch scheme {
        case "https":
            return url
        case "http" where isLoopback(host):
            return url
        case "http":
            throw ConfigurationError(
                variable: "OAUTH_TOKEN_URL",
                message: "http:// would send the client secret unencrypted to \(host); use https://, or http:// only to 127.0.0.1.")
        default:
            throw ConfigurationError(variable: "OAUTH_TOKEN_URL", message: "the scheme \"\(scheme)\" is not supported; use https://.")
        }
    }

    private static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare == "::1" || bare.lowercased() == "localhost" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.first == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
