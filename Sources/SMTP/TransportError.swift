import Foundation

/// A failure below SMTP: the socket or TLS. The session turns it into an `SMTPError` that names
/// the step it happened in.
struct TransportError: Error, CustomStringConvertible {
    enum Kind {
        case timedOut
        case connectionClosed
        case system
        case tls
        case lineTooLong
    }

    var kind: Kind
    var message: String

    var description: String { message }

    static func timedOut(_ what: String) -> TransportError {
        TransportError(kind: .timedOut, message: "timed out \(what)")
    }

    static func system(_ operation: String, errno code: Int32) -> TransportError {
        TransportError(kind: .system, message: "\(operation) failed: \(String(cString: strerror(code)))")
    }

    static let connectionClosed = TransportError(kind: .connectionClosed, message: "the server closed the connection")
}
