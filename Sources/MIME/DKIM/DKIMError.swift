/// Raised when a DKIM signer cannot be set up or a message cannot be signed.
///
/// The description is one sentence. When an OpenSSL call failed, it also names that call and
/// carries OpenSSL's own error text, so the cause is visible without a debugger. No part of the
/// private key or the message body appears in it.
public struct DKIMError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The failure and the fix, as a sentence without OpenSSL's details.
    public let reason: String
    /// The OpenSSL function that failed, when the error comes from OpenSSL.
    public let openSSLFunction: String?
    /// The text of OpenSSL's error queue at the time of the failure.
    public let openSSLMessage: String?

    init(_ reason: String) {
        self.reason = reason
        self.openSSLFunction = nil
        self.openSSLMessage = nil
    }

    init(_ reason: String, openSSLFunction: String, openSSLMessage: String) {
        self.reason = reason
        self.openSSLFunction = openSSLFunction
        self.openSSLMessage = openSSLMessage
    }

    public var description: String {
        guard let openSSLFunction, let openSSLMessage else { return reason + "." }
        return "\(reason): \(openSSLFunction) failed: \(openSSLMessage)."
    }
}
