import Foundation
import SMTP

/// Reads `SMTP_CONNECTION_URI`: `smtp://[user[:password]@]host[:port]` (STARTTLS when the
/// server offers it, port 587 by default) or `smtps://...` (TLS from the start, port 465).
///
/// A password in the URI is accepted for compatibility with existing settings, but
/// `SMTP_PASSWORD` keeps it out of the URI and takes precedence. Query parameters set
/// connection options (`SMTPURIOptions`).
enum SMTPConnectionURI {
    struct Parsed: Equatable {
        var host: String
        var port: Int
        var security: SMTPServerConfiguration.Security
        var user: String?
        var password: String?
        var options = SMTPURIOptions()
    }

    static let variable = "SMTP_CONNECTION_URI"

    static func parse(_ text: String) throws(ConfigurationError) -> Parsed {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw ConfigurationError(variable: variable, message: "\"\(redacted(text))\" is not a URI; write smtp://user@host:587 or smtps://user@host:465.")
        }

        let security: SMTPServerConfiguration.Security
        let defaultPort: Int
        switch scheme {
        case "smtp":
            security = .startTLSWhenOffered
            defaultPort = 587
        case "smtps":
            security = .implicitTLS
            defaultPort = 465
        default:
            throw ConfigurationError(variable: variable, message: "the scheme \"\(scheme)\" is not supported; use smtp:// (STARTTLS) or smtps:// (TLS).")
        }

        var host = components.percentEncodedHost ?? ""
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        guard !host.isEmpty else {
            throw ConfigurationError(variable: variable, message: "the host is missing; write \(scheme)://user@host:\(defaultPort).")
        }
        if let port = components.port, !(1...65535).contains(port) {
            throw ConfigurationError(variable: variable, message: "the port \(port) is not between 1 and 65535.")
        }
        let options = try SMTPURIOptions(components.queryItems ?? [])
        var finalSecurity = security
        var finalDefaultPort = defaultPort
        if let secure = options.secure {
            finalSecurity = secure ? .implicitTLS : .startTLSWhenOffered
            finalDefaultPort = secure ? 465 : 587
        }

        return Parsed(
            host: host,
            port: components.port ?? finalDefaultPort,
            security: finalSecurity,
            user: components.user.flatMap { $0.isEmpty ? nil : $0 },
            password: components.password,
            options: options)
    }

    /// Returns the URI with any password replaced, safe to print in an error. Works on the text
    /// itself, so a URI that does not parse is redacted too.
    static func redacted(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else { return text }
        let authorityStart = schemeEnd.upperBound
        // The last @ of the whole text, so a password with an unencoded / or ? is still found.
        guard let at = text[authorityStart...].lastIndex(of: "@") else { return text }
        guard let colon = text[authorityStart..<at].firstIndex(of: ":") else { return text }
        return String(text[..<text.index(after: colon)]) + "redacted" + String(text[at...])
    }
}
