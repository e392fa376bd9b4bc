import Foundation
import SMTP

/// Connection options given as query parameters of `SMTP_CONNECTION_URI`, named as nodemailer
/// reads them, so existing URIs such as `smtp://host:587?requireTLS=true` keep working.
/// Timeouts are in milliseconds, as in nodemailer.
struct SMTPURIOptions: Equatable {
    /// `secure=true`: TLS from the first byte, even with `smtp://`.
    var secure: Bool?
    /// `requireTLS=true` or `ignoreTLS=true`.
    var startTLS: STARTTLSPolicy?
    /// `name`: the EHLO name.
    var heloName: String?
    /// `connectionTimeout`, `greetingTimeout`, `socketTimeout` (each command and the data).
    var connectTimeout: Duration?
    var greetingTimeout: Duration?
    var socketTimeout: Duration?
    /// `maxConnections` and `maxMessages`: the pool size and the messages per connection.
    var maxConnections: Int?
    var maxMessages: Int?
    /// `tls.rejectUnauthorized`, `tls.servername`, `tls.minVersion`.
    var rejectUnauthorized: Bool?
    var serverName: String?
    var minimumTLSVersion: TLSVersion?

    static let supportedNames = [
        "secure", "requireTLS", "ignoreTLS", "name", "connectionTimeout", "greetingTimeout", "socketTimeout", "pool",
        "maxConnections", "maxMessages", "tls.rejectUnauthorized", "tls.servername", "tls.minVersion",
    ]

    init() {}

    /// Reads the query items; an unknown name or a bad value fails with the name and the fix.
    init(_ items: [URLQueryItem]) throws(ConfigurationError) {
        for item in items {
            let value = item.value ?? ""
            switch item.name {
            case "secure": secure = try Self.flag(item.name, value)
            case "requireTLS": if try Self.flag(item.name, value) { startTLS = try combine(.required) }
            case "ignoreTLS": if try Self.flag(item.name, value) { startTLS = try combine(.never) }
            case "name":
                guard !value.isEmpty, value.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                    throw Self.invalid(item.name, "must be a host name for EHLO")
                }
                heloName = value
            case "connectionTimeout": connectTimeout = try Self.milliseconds(item.name, value)
            case "greetingTimeout": greetingTimeout = try Self.milliseconds(item.name, value)
            case "socketTimeout": socketTimeout = try Self.milliseconds(item.name, value)
            case "pool": _ = try Self.flag(item.name, value)
            case "maxConnections": maxConnections = try Self.count(item.name, value)
            case "maxMessages": maxMessages = try Self.count(item.name, value)
            case "tls.rejectUnauthorized": rejectUnauthorized = try Self.flag(item.name, value)
            case "tls.servername":
                guard !value.isEmpty else { throw Self.invalid(item.name, "must be a host name") }
                serverName = value
            case "tls.minVersion":
                guard let version = TLSVersion(rawValue: value) else { throw Self.invalid(item.name, "must be TLSv1.2 or TLSv1.3") }
                minimumTLSVersion = version
            default:
                throw ConfigurationError(
                    variable: SMTPConnectionURI.variable,
                    message: "the query parameter \"\(item.name)\" is not supported; supported: \(Self.supportedNames.joined(separator: ", ")).")
            }
        }
    }

    private func combine(_ policy: STARTTLSPolicy) throws(ConfigurationError) -> STARTTLSPolicy {
        guard startTLS == nil || startTLS == policy else {
            throw ConfigurationError(variable: SMTPConnectionURI.variable, message: "requireTLS and ignoreTLS contradict each other; set one of them.")
        }
        return policy
    }

    /// Applies the options to a server configuration built from the rest of the URI.
    func apply(to configuration: inout SMTPServerConfiguration) {
        if let startTLS { configuration.startTLS = startTLS }
        if let heloName { configuration.heloName = heloName }
        if let connectTimeout { configuration.timeouts.connect = connectTimeout }
        if let greetingTimeout { configuration.timeouts.greeting = greetingTimeout }
        if let socketTimeout {
            configuration.timeouts.command = socketTimeout
            configuration.timeouts.data = socketTimeout
        }
        if let rejectUnauthorized { configuration.tls.verifiesCertificate = rejectUnauthorized }
        if let serverName { configuration.tls.serverName = serverName }
        if let minimumTLSVersion { configuration.tls.minimumVersion = minimumTLSVersion }
    }

    private static func flag(_ name: String, _ value: String) throws(ConfigurationError) -> Bool {
        switch value.lowercased() {
        case "true", "1", "": return true
        case "false", "0": return false
        default: throw invalid(name, "must be true or false")
        }
    }

    private static func milliseconds(_ name: String, _ value: String) throws(ConfigurationError) -> Duration {
        guard let number = Int(value), number > 0, number <= 3_600_000 else {
            throw invalid(name, "must be a number of milliseconds from 1 to 3600000")
        }
        return .milliseconds(number)
    }

    private static func count(_ name: String, _ value: String) throws(ConfigurationError) -> Int {
        guard let number = Int(value), number > 0, number <= 10_000 else {
            throw invalid(name, "must be a whole number from 1 to 10000")
        }
        return number
    }

    private static func invalid(_ name: String, _ reason: String) -> ConfigurationError {
        ConfigurationError(variable: SMTPConnectionURI.variable, message: "the query parameter \(name) \(reason).")
    }
}
