import DocumentStore

/// One HTTP request, read whole: the API's bodies are JSON documents of bounded size.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The path without the query, percent-decoded.
    public var path: String
    /// The query parameters, percent-decoded. A repeated name keeps its last value.
    public var query: [String: String]
    /// The header fields, names in lower case.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }
}

/// The response to a request: a whole body, or a stream of server-sent events.
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        case bytes([UInt8])
        case events(any EventStream)
    }

    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: Body

    public init(status: Int, headers: [(name: String, value: String)] = [], body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Returns a JSON response with `Cache-Control: no-store`, because documents change.
    public static func json(_ value: JSONValue, status: Int = 200) -> HTTPResponse {
        HTTPResponse(
            status: status,
            headers: [("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-store")],
            body: .bytes(Array(value.serialized().utf8) + [0x0A]))
    }

    public static func text(_ text: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", contentType), ("Cache-Control", "no-store")], body: .bytes(Array(text.utf8)))
    }
}

/// A source of server-sent events, read by the connection's thread until it ends or the client
/// goes away.
public protocol EventStream: Sendable {
    /// Blocks until the next bytes to send are ready and returns them, or returns `nil` when the
    /// stream has ended. Runs on the connection's own thread, never on the cooperative pool.
    func nextChunk() -> [UInt8]?

    /// Called once the client has gone away or the server stops.
    func close()
}

/// Handles a request; runs on Swift's cooperative pool.
public protocol HTTPHandler: Sendable {
    /// Looks at a request before its body arrives and returns a response to refuse it, or
    /// `nil`. `request.body` is empty. Runs on the connection's thread, so it must not block.
    func checkHeaders(_ request: HTTPRequest) -> HTTPResponse?

    func handle(_ request: HTTPRequest) async -> HTTPResponse
}

extension HTTPHandler {
    public func checkHeaders(_ request: HTTPRequest) -> HTTPResponse? { nil }
}
