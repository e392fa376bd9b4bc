import Foundation
import MIME

/// `DKIM_DOMAIN`, `DKIM_SELECTOR` and `DKIM_PRIVATE_KEY_FILE`: messages are signed with DKIM
/// (RFC 6376) when all three are set.
public struct DKIMSettings: Sendable, Equatable {
    /// The signing domain, `d=`. Its DNS publishes the public key at `SELECTOR._domainkey.DOMAIN`.
    public var domain: String
    /// The selector, `s=`.
    public var selector: String
    /// A PEM file with an RSA (2048 bits or more advised) or Ed25519 private key.
    public var privateKeyFile: String

    public init(domain: String, selector: String, privateKeyFile: String) {
        self.domain = domain
        self.selector = selector
        self.privateKeyFile = privateKeyFile
    }

    /// Reads the three variables; all or none must be set.
    static func load(_ value: (String) -> String?) throws(ConfigurationError) -> DKIMSettings? {
        let names = ["DKIM_DOMAIN", "DKIM_SELECTOR", "DKIM_PRIVATE_KEY_FILE"]
        let values = names.map(value)
        if values.allSatisfy({ $0 == nil }) { return nil }

        let missing = zip(names, values).filter { $0.1 == nil }.map(\.0)
        guard missing.isEmpty, let domain = values[0], let selector = values[1], let keyFile = values[2] else {
            throw ConfigurationError(
                variable: missing.joined(separator: ", "),
                message: "DKIM signing needs DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE together; set the missing ones or unset all three.")
        }
        return DKIMSettings(domain: domain, selector: selector, privateKeyFile: keyFile)
    }

    /// Reads the key file and prepares the signer. Called once at start, so a missing file or a
    /// bad key stops the service with a clear error instead of failing every message.
    public func makeSigner() throws -> DKIMSigner {
        guard let data = FileManager.default.contents(atPath: privateKeyFile) else {
            throw ConfigurationError(
                variable: "DKIM_PRIVATE_KEY_FILE",
                message: "cannot read \(privateKeyFile); check that the file exists and this user may read it.")
        }
        do {
            return try DKIMSigner(domain: domain, selector: selector, privateKeyPEM: String(decoding: data, as: UTF8.self))
        } catch {
            // The signer's sentence names the value at fault: the domain, the selector or the key.
            throw ConfigurationError(variable: "DKIM settings", message: "\(error)")
        }
    }
}
