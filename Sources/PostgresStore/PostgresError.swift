/// A failed PostgreSQL call, with a sentence that includes the server's or libpq's message.
public struct PostgresError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The connection could not be made.
        case connect
        /// The connection broke, so whether the statement ran is unknown.
        case connectionLost
        /// The server did not respond in time, so the connection was closed.
        case timedOut
        /// The server sent a response that libpq did not expect.
        case protocolViolation
        /// The server rejected the statement with the SQLSTATE `code`.
        case server(code: String)
    }

    public var kind: Kind
    public var message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The SQLSTATE of a server error, or `nil`.
    var sqlState: String? {
        if case .server(let code) = kind { return code }
        return nil
    }

    /// Whether the connection failed rather than the statement, so another connection may succeed.
    var isConnectionFailure: Bool {
        kind == .connect || kind == .connectionLost || kind == .timedOut
            // SQLSTATE 57P01 to 57P03 mean the server is shutting down or starting up, and 08xxx are
            // connection exceptions.
            || sqlState.map { $0.hasPrefix("57P") || $0.hasPrefix("08") } == true
    }
}
