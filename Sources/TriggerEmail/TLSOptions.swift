import DocumentStore
import SMTP

/// Reads `TLS_OPTIONS`, a JSON object in the shape nodemailer takes:
/// `{"rejectUnauthorized": false}`, `{"ca": "/path/to/ca.pem"}`, `{"servername": "mail.example.org"}`.
enum TLSOptions {
    static let variable = "TLS_OPTIONS"
    static let supportedKeys: Set<String> = ["rejectUnauthorized", "ca", "servername", "minVersion"]

    static func parse(_ text: String) throws(ConfigurationError) -> TLSConfiguration {
        let object: JSONObject
        do {
            guard let parsed = try JSONValue(parsing: text).objectValue else {
                throw ConfigurationError(variable: variable, message: "it must be a JSON object such as {\"rejectUnauthorized\": false}.")
            }
            object = parsed
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(variable: variable, message: "\(error) Write a JSON object such as {\"ca\": \"/etc/ssl/my-ca.pem\"}.")
        }

        let unknown = Set(object.keys).subtracting(supportedKeys)
        guard unknown.isEmpty else {
            throw ConfigurationError(
                variable: variable,
                message: "unsupported option \(unknown.sorted().joined(separator: ", ")); supported: \(supportedKeys.sorted().joined(separator: ", ")).")
        }

        var configuration = TLSConfiguration()
        if let value = object["rejectUnauthorized"] {
            guard let flag = value.boolValue else {
                throw ConfigurationError(variable: variable, message: "rejectUnauthorized must be true or false, not \(value.typeDescription).")
            }
            configuration.verifiesCertificate = flag
        }
        if let value = object["ca"] {
            guard let path = value.stringValue, !path.isEmpty else {
                throw ConfigurationError(variable: variable, message: "ca must be the path of a PEM file of CA certificates.")
            }
            guard !path.hasPrefix("-----BEGIN") else {
                throw ConfigurationError(variable: variable, message: "ca must be a file path; save the PEM text to a file and give its path.")
            }
            configuration.caFile = path
        }
        if let value = object["servername"] {
            guard let name = value.stringValue, !name.isEmpty else {
                throw ConfigurationError(variable: variable, message: "servername must be a host name.")
            }
            configuration.serverName = name
        }
        if let value = object["minVersion"] {
            guard let text = value.stringValue, let version = TLSVersion(rawValue: text) else {
                throw ConfigurationError(variable: variable, message: "minVersion must be \"TLSv1.2\" or \"TLSv1.3\"; older versions are not supported.")
            }
            configuration.minimumVersion = version
        }
        return configuration
    }
}
