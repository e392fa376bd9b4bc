/// The error for a message that was still waiting for a connection when the client stopped
/// taking messages. None of it reached the server.
public struct MessageNotSentError: Error, CustomStringConvertible {
    public init() {}

    public var description: String {
        "The message was not sent: the SMTP client stopped before a connection took it."
    }
}
