import CMicroHTTPD
import Foundation

/// An HTTP/1.1 server on GNU libmicrohttpd, with a thread per connection.
///
/// Each connection's thread reads the request, hands it to the handler on Swift's cooperative
/// pool, and blocks until the response is ready. Blocking there is allowed because those
/// threads belong to libmicrohttpd, and it lets an event stream wait for changes without
/// holding a cooperative thread.
public final class MicroHTTPDServer: @unchecked Sendable {
    public struct Limits: Sendable {
        /// The largest request body accepted; a larger one gets 413.
        public var maxBodyBytes: Int
        /// Seconds a connection may stay silent before it is closed, so slow clients cannot
        /// hold threads.
        public var connectionTimeoutSeconds: Int
        /// Connections open at once; more are refused.
        public var maxConnections: Int
        /// Seconds from a connection's start, or from its previous response, until the request's
        /// header fields must be complete, however steadily they trickle in.
        public var headerTimeoutSeconds: Int
        /// Seconds from the header fields until the body must be complete.
        public var bodyTimeoutSeconds: Int

        public init(
            maxBodyBytes: Int = 33_554_432, connectionTimeoutSeconds: Int = 30, maxConnections: Int = 256,
            headerTimeoutSeconds: Int = 10, bodyTimeoutSeconds: Int = 60
        ) {
            self.maxBodyBytes = maxBodyBytes
            self.connectionTimeoutSeconds = connectionTimeoutSeconds
            self.maxConnections = maxConnections
            self.headerTimeoutSeconds = headerTimeoutSeconds
            self.bodyTimeoutSeconds = bodyTimeoutSeconds
        }
    }

    let handler: any HTTPHandler
    let limits: Limits
    let deadlines: RequestDeadlines
    private var daemon: OpaquePointer?
    /// The port the server listens on, known once `start` returns.
    public private(set) var port: Int = 0

    public init(handler: any HTTPHandler, limits: Limits = Limits()) {
        self.handler = handler
        self.limits = limits
        deadlines = RequestDeadlines(headerTimeout: .seconds(limits.headerTimeoutSeconds), bodyTimeout: .seconds(limits.bodyTimeoutSeconds))
    }

    /// Binds `address` and starts serving. Throws when the address cannot be bound.
    public func start(on address: ListenAddress) throws {
        // Without MHD_USE_ERROR_LOG: libmicrohttpd would print its own lines outside the log's
        // format, and a failed start is reported here anyway.
        var flags = UInt32(MHD_USE_INTERNAL_POLLING_THREAD.rawValue | MHD_USE_THREAD_PER_CONNECTION.rawValue)
        if address.isIPv6 { flags |= UInt32(MHD_USE_IPv6.rawValue) }

        let context = Unmanaged.passUnretained(self).toOpaque()
        daemon = address.withSocketAddress { socketAddress in
            cmhd_start_daemon(
                flags, socketAddress, accessHandler, requestCompleted, connectionChanged, percentDecode, context,
                UInt32(limits.maxConnections), UInt32(limits.connectionTimeoutSeconds))
        }
        guard let daemon else {
            throw HTTPServerError("Cannot listen on \(address): the address is in use or not on this machine; set LISTEN to a free address and port.")
        }
        port = Int(cmhd_bound_port(daemon))
        deadlines.start()
    }

    /// Stops accepting connections, ends the open ones and waits for their threads.
    public func stop() {
        if let daemon { MHD_stop_daemon(daemon) }
        daemon = nil
        deadlines.stop()
    }

    deinit {
        stop()
    }

    // MARK: - Requests

    /// Returns the request's header fields in the order they came, repeated names included.
    func headerFields(of connection: OpaquePointer) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        withUnsafeMutablePointer(to: &fields) { fields in
            _ = MHD_get_connection_values(connection, .HEADER_KIND, appendValue, UnsafeMutableRawPointer(fields))
        }
        return fields
    }

    /// Builds the request without its body from libmicrohttpd's view of the connection.
    func request(for connection: OpaquePointer, method: String, path: String, fields: [(name: String, value: String)]) -> HTTPRequest {
        var request = HTTPRequest(method: method, path: path)
        withUnsafeMutablePointer(to: &request.query) { query in
            _ = MHD_get_connection_values(connection, .GET_ARGUMENT_KIND, collectValue, UnsafeMutableRawPointer(query))
        }
        request.headers = Dictionary(fields.map { ($0.name.lowercased(), $0.value) }) { _, last in last }
        return request
    }

    /// Returns a 400 when the body's length is ambiguous (RFC 9112, sections 5.1 and 6.3).
    /// That is whitespace between a field name and its colon, a Content-Length that is not one
    /// decimal number, Content-Length fields that differ, Content-Length with Transfer-Encoding,
    /// or a transfer coding other than chunked. libmicrohttpd would pick one reading, and a
    /// proxy in front that picked another would pass a hidden second request.
    ///
    /// NOTE: libmicrohttpd 0.9.75 turns an obsolete line folding (a header line that starts
    /// with a space) into a field with another name, such as `Content-Length0` for a folded
    /// Content-Length. Such a request arrives here without a length, and this check cannot tell
    /// it from a request without a body. A proxy that follows RFC 9112 rejects or unfolds it.
    static func ambiguousFraming(_ fields: [(name: String, value: String)]) -> APIError? {
        let lengths = fields.filter { $0.name.lowercased() == "content-length" }.map(\.value)
        let codings = fields.filter { $0.name.lowercased() == "transfer-encoding" }.map(\.value)

        // The bytes after such a request cannot be trusted to start the next one, so the
        // connection closes after the response.
        func rejection(_ message: String) -> APIError {
            APIError(status: 400, message: message, headers: [(name: "Connection", value: "close")])
        }
        if let name = fields.map(\.name).first(where: { $0.contains { $0 == " " || $0 == "\t" } }) {
            return rejection("The header field name \(String(reflecting: name)) contains whitespace; write the name and the colon without a space between them.")
        }
        if let length = lengths.first(where: { !isDecimalNumber($0) }) {
            return rejection("Invalid Content-Length \(String(reflecting: length)): send the body's length in bytes as one decimal number.")
        }
        if Set(lengths).count > 1 {
            return rejection("The request has Content-Length fields that differ (\(Set(lengths).sorted().joined(separator: ", "))); send one.")
        }
        if !lengths.isEmpty, !codings.isEmpty {
            return rejection("The request has both Content-Length and Transfer-Encoding; send only one of them.")
        }
        if codings.count > 1 || codings.contains(where: { $0.trimmingCharacters(in: .whitespaces).lowercased() != "chunked" }) {
            return rejection("Transfer-Encoding \(String(reflecting: codings.joined(separator: ", "))) is not supported; send the body with Content-Length or with Transfer-Encoding: chunked alone.")
        }
        return nil
    }

    private static func isDecimalNumber(_ text: String) -> Bool {
        let digits = text.trimmingCharacters(in: .whitespaces)
        return !digits.isEmpty && digits.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// Runs the handler on the cooperative pool and waits for it on this connection's thread.
    func respond(to request: HTTPRequest) -> HTTPResponse {
        let handler = handler
        return waitOnThisThread { await handler.handle(request) }
    }

    /// Hands `response` to libmicrohttpd.
    func queue(_ response: HTTPResponse, on connection: OpaquePointer) -> MHD_Result {
        let created: OpaquePointer?
        switch response.body {
        case .bytes(let bytes):
            created = bytes.withUnsafeBytes { buffer in
                MHD_create_response_from_buffer(buffer.count, UnsafeMutableRawPointer(mutating: buffer.baseAddress), .RESPMEM_MUST_COPY)
            }
        case .events(let stream):
            let reader = Unmanaged.passRetained(EventStreamReader(stream)).toOpaque()
            created = MHD_create_response_from_callback(UInt64.max, 4096, readEvents, reader, freeEventReader)
        }
        guard let created else { return .NO }
        defer { MHD_destroy_response(created) }

        for header in response.headers {
            _ = MHD_add_response_header(created, header.name, header.value)
        }
        return MHD_queue_response(connection, UInt32(response.status), created)
    }
}

/// A request as it arrives, kept between libmicrohttpd's calls: the header fields first, then
/// the body.
final class RequestState {
    var request: HTTPRequest
    var isTooLarge = false
    /// A response was queued when the header fields arrived, so the body is dropped.
    var isRejected = false

    init(_ request: HTTPRequest) {
        self.request = request
    }
}

/// The bytes of an event stream not yet handed to libmicrohttpd.
private final class EventStreamReader {
    let stream: any EventStream
    var pending: [UInt8] = []
    var offset = 0

    init(_ stream: any EventStream) {
        self.stream = stream
    }
}

public struct HTTPServerError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Callbacks from libmicrohttpd

private let accessHandler: MHD_AccessHandlerCallback = { context, connection, url, method, _, uploadData, uploadSize, requestContext in
    guard let context, let connection, let requestContext, let uploadSize else { return .NO }
    let server = Unmanaged<MicroHTTPDServer>.fromOpaque(context).takeUnretainedValue()

    // The first call brings only the header fields. A body announced as too large is refused
    // at once, before the client sends it.
    guard let stored = requestContext.pointee else {
        server.deadlines.headerReceived(connection)
        let fields = server.headerFields(of: connection)
        let head = server.request(
            for: connection, method: method.map { String(cString: $0) } ?? "GET", path: url.map { String(cString: $0) } ?? "/", fields: fields)
        let state = RequestState(head)
        requestContext.pointee = Unmanaged.passRetained(state).toOpaque()
        if let refusal = MicroHTTPDServer.ambiguousFraming(fields)?.response ?? server.handler.checkHeaders(head) {
            // The body, if any, is read and dropped.
            state.isRejected = true
            return server.queue(refusal, on: connection)
        }
        if let length = head.headers["content-length"].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }), length > server.limits.maxBodyBytes {
            state.isRejected = true
            return server.queue(APIError.payloadTooLarge(limit: server.limits.maxBodyBytes).response, on: connection)
        }
        return .YES
    }
    let state = Unmanaged<RequestState>.fromOpaque(stored).takeUnretainedValue()

    // Then the body, in pieces. Past the limit, or after a rejection, the rest is read and dropped.
    if uploadSize.pointee > 0 {
        if !state.isTooLarge, !state.isRejected, let uploadData {
            if state.request.body.count + uploadSize.pointee > server.limits.maxBodyBytes {
                state.isTooLarge = true
                state.request.body = []
            } else {
                uploadData.withMemoryRebound(to: UInt8.self, capacity: uploadSize.pointee) {
                    state.request.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: uploadSize.pointee))
                }
            }
        }
        uploadSize.pointee = 0
        return .YES
    }

    // The last call: the request is complete.
    server.deadlines.requestReceived(connection)
    if state.isRejected { return .YES }
    let response = state.isTooLarge ? APIError.payloadTooLarge(limit: server.limits.maxBodyBytes).response : server.respond(to: state.request)
    return server.queue(response, on: connection)
}

private let requestCompleted: MHD_RequestCompletedCallback = { context, connection, requestContext, _ in
    if let context, let connection {
        Unmanaged<MicroHTTPDServer>.fromOpaque(context).takeUnretainedValue().deadlines.responseSent(connection)
    }
    guard let requestContext, let stored = requestContext.pointee else { return }
    Unmanaged<RequestState>.fromOpaque(stored).release()
    requestContext.pointee = nil
}

private let connectionChanged: MHD_NotifyConnectionCallback = { context, connection, _, change in
    guard let context, let connection else { return }
    let deadlines = Unmanaged<MicroHTTPDServer>.fromOpaque(context).takeUnretainedValue().deadlines
    switch change {
    case .CONNECTION_NOTIFY_STARTED:
        deadlines.connectionOpened(connection, socket: cmhd_connection_socket(connection))
    case .CONNECTION_NOTIFY_CLOSED:
        deadlines.connectionClosed(connection)
    default:
        break
    }
}

private let collectValue: MHD_KeyValueIterator = { context, _, key, value in
    guard let context, let key else { return .YES }
    let values = context.assumingMemoryBound(to: [String: String].self)
    values.pointee[String(cString: key)] = value.map { String(cString: $0) } ?? ""
    return .YES
}

private let appendValue: MHD_KeyValueIterator = { context, _, key, value in
    guard let context, let key else { return .YES }
    let fields = context.assumingMemoryBound(to: [(name: String, value: String)].self)
    fields.pointee.append((String(cString: key), value.map { String(cString: $0) } ?? ""))
    return .YES
}

private let readEvents: MHD_ContentReaderCallback = { context, _, buffer, capacity in
    guard let context, let buffer else { return MHD_CONTENT_READER_END_WITH_ERROR }
    let reader = Unmanaged<EventStreamReader>.fromOpaque(context).takeUnretainedValue()

    if reader.offset >= reader.pending.count {
        guard let chunk = reader.stream.nextChunk() else { return MHD_CONTENT_READER_END_OF_STREAM }
        reader.pending = chunk
        reader.offset = 0
    }
    let count = min(capacity, reader.pending.count - reader.offset)
    reader.pending.withUnsafeBytes { bytes in
        UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + reader.offset, byteCount: count)
    }
    reader.offset += count
    return count
}

private let freeEventReader: MHD_ContentReaderFreeCallback = { context in
    guard let context else { return }
    let reader = Unmanaged<EventStreamReader>.fromOpaque(context).takeRetainedValue()
    reader.stream.close()
}

/// Decodes `%XX` in the path and the query in place, as libmicrohttpd's own decoder does, but
/// leaves `%00` as it is: a decoded zero byte would end the C string there, so that
/// `/v1/mail/a%00b` would reach the API as `/v1/mail/a`. Kept as `%00`, it fails the ID check.
private let percentDecode: cmhd_unescape_callback = { _, _, text in
    guard let text else { return 0 }
    let length = strlen(text)
    return text.withMemoryRebound(to: UInt8.self, capacity: length + 1) { bytes in
        func hexValue(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 0x30...0x39: byte - 0x30
            case 0x41...0x46: byte - 0x41 + 10
            case 0x61...0x66: byte - 0x61 + 10
            default: nil
            }
        }

        var read = 0
        var written = 0
        while read < length {
            if bytes[read] == UInt8(ascii: "%"), read + 2 < length,
                let high = hexValue(bytes[read + 1]), let low = hexValue(bytes[read + 2]), high | low != 0
            {
                bytes[written] = high << 4 | low
                read += 3
            } else {
                bytes[written] = bytes[read]
                read += 1
            }
            written += 1
        }
        bytes[written] = 0
        return written
    }
}
