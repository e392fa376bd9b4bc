import CPostgres
import Foundation

/// One libpq connection, used by one thread at a time.
///
/// libpq runs in non-blocking mode and every wait on the socket goes through `poll` with a
/// deadline, so a server that stops responding costs at most the timeout. A connection that timed
/// out or lost its server is closed at once and reports `isBroken`, because the protocol state
/// is unknown afterwards.
final class PostgresConnection {
    private var handle: OpaquePointer?
    /// The URL without its password, for messages.
    let displayURL: String
    /// The statements sent so far, so that a caller can tell whether a failure came first.
    private(set) var queryCount = 0
    /// The names of the statements prepared on this connection, by their SQL text. The store
    /// runs a small, fixed set of statements, so the server parses and plans each once per
    /// connection instead of once per call.
    private var preparedNames: [String: String] = [:]

    /// Connects to `url` (a libpq connection URI), waiting at most `timeout`.
    init(url: String, displayURL: String, timeout: Duration) throws(PostgresError) {
        self.displayURL = displayURL
        let deadline = ContinuousClock.now.advanced(by: timeout)

        // Keepalives let a connection that waits for notifications notice a server that
        // vanished without closing the socket. Parameters in the URL override these, because
        // the expanded `dbname` comes last.
        // The server ends a statement after 30 s itself, like the client's own timeout, so
        // one that waits on a lock does not outlive the connection the client gave up on.
        let parameters = [
            ("application_name", "trigger-email"),
            ("options", "-c statement_timeout=30000"),
            ("keepalives", "1"), ("keepalives_idle", "10"), ("keepalives_interval", "5"), ("keepalives_count", "3"),
            ("dbname", url),
        ]
        handle = withCStrings(parameters.map(\.0)) { keywords in
            withCStrings(parameters.map(\.1)) { values in
                PQconnectStartParams(keywords, values, 1)
            }
        }
        guard let handle, PQstatus(handle) != CONNECTION_BAD else {
            let message = handle.map { Self.errorMessage(of: $0) } ?? "out of memory"
            close()
            throw PostgresError(.connect, "Cannot connect to PostgreSQL at \(displayURL): \(message)")
        }

        do {
            try finishConnecting(deadline: deadline, timeout: timeout)
        } catch {
            close()
            throw error
        }
        // libpq prints server notices ("schema ... already exists, skipping") to standard error,
        // outside the log's format. None of them calls for action, so they are dropped.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
    }

    deinit {
        close()
    }

    /// Drives libpq's connection state machine until it succeeds, fails or the time is up.
    private func finishConnecting(deadline: ContinuousClock.Instant, timeout: Duration) throws(PostgresError) {
        var status = PGRES_POLLING_WRITING
        while true {
            switch status {
            case PGRES_POLLING_OK:
                guard PQsetnonblocking(handle, 1) == 0 else {
                    throw PostgresError(.connect, "Cannot switch the PostgreSQL connection to \(displayURL) to non-blocking mode: \(Self.errorMessage(of: handle))")
                }
                return
            case PGRES_POLLING_FAILED:
                throw PostgresError(.connect, "Cannot connect to PostgreSQL at \(displayURL): \(Self.errorMessage(of: handle))")
            default:
                let events = status == PGRES_POLLING_READING ? Int16(POLLIN) : Int16(POLLOUT)
                guard try waitForSocket(events, until: deadline) else {
                    throw PostgresError(.timedOut, "Connecting to PostgreSQL at \(displayURL) timed out after \(timeout).")
                }
                status = PQconnectPoll(handle)
            }
        }
    }

    var isBroken: Bool {
        guard let handle else { return true }
        return PQstatus(handle) != CONNECTION_OK
    }

    /// Whether an idle connection still looks usable. A server that ends a connection (on
    /// shutdown, restart or `pg_terminate_backend`) sends an error and closes the socket, so
    /// anything readable on an idle connection means it is gone.
    var isIdleAndOpen: Bool {
        guard !isBroken else { return false }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 0
    }

    /// The socket, for waiting on notifications.
    var socket: Int32 {
        handle.map { PQsocket($0) } ?? -1
    }

    func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    // MARK: - Queries

    /// Runs one statement with text parameters, or several without, and returns the rows of the
    /// last one as text.
    @discardableResult
    func query(_ sql: String, _ parameters: [String?] = [], timeout: Duration) throws(PostgresError) -> PostgresResult {
        guard let handle, !isBroken else {
            throw PostgresError(.connectionLost, "The connection to PostgreSQL at \(displayURL) is closed.")
        }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        queryCount += 1

        // Without parameters the simple protocol runs it, which accepts several statements.
        let sent: Int32
        if parameters.isEmpty {
            sent = PQsendQuery(handle, sql)
        } else {
            let name = try preparedName(for: sql, parameterCount: parameters.count, deadline: deadline, timeout: timeout)
            sent = withOptionalCStrings(parameters) { values in
                PQsendQueryPrepared(handle, name, Int32(parameters.count), values, nil, nil, 0)
            }
        }
        guard sent == 1 else { throw failure("send a query") }

        do {
            try flush(until: deadline, timeout: timeout)
            return try readResult(until: deadline, timeout: timeout)
        } catch {
            if error.kind == .timedOut || error.kind == .connectionLost { close() }
            throw error
        }
    }

    /// Returns the name of the prepared statement for `sql`, preparing it first if needed.
    private func preparedName(for sql: String, parameterCount: Int, deadline: ContinuousClock.Instant, timeout: Duration) throws(PostgresError) -> String {
        if let name = preparedNames[sql] { return name }

        let name = "trigger_email_\(preparedNames.count + 1)"
        guard PQsendPrepare(handle, name, sql, Int32(parameterCount), nil) == 1 else { throw failure("prepare a statement") }
        do {
            try flush(until: deadline, timeout: timeout)
            _ = try readResult(until: deadline, timeout: timeout)
        } catch {
            if error.kind == .timedOut || error.kind == .connectionLost { close() }
            throw error
        }
        preparedNames[sql] = name
        return name
    }

    private func flush(until deadline: ContinuousClock.Instant, timeout: Duration) throws(PostgresError) {
        while true {
            let pending = PQflush(handle)
            if pending == 0 { return }
            guard pending == 1 else { throw failure("send a query") }

            guard try waitForSocket(Int16(POLLOUT | POLLIN), until: deadline) else {
                throw PostgresError(.timedOut, "PostgreSQL at \(displayURL) did not accept the query within \(timeout).")
            }
            guard PQconsumeInput(handle) == 1 else { throw failure("send a query") }
        }
    }

    /// Reads every result of the statement and returns the last one, or throws the first error.
    private func readResult(until deadline: ContinuousClock.Instant, timeout: Duration) throws(PostgresError) -> PostgresResult {
        var last: PostgresResult?
        var firstError: PostgresError?
        while true {
            while PQisBusy(handle) == 1 {
                guard try waitForSocket(Int16(POLLIN), until: deadline) else {
                    throw PostgresError(.timedOut, "PostgreSQL at \(displayURL) did not respond within \(timeout).")
                }
                guard PQconsumeInput(handle) == 1 else { throw failure("read a result") }
            }
            guard let raw = PQgetResult(handle) else { break }

            let result = PostgresResult(raw)
            switch PQresultStatus(raw) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                last = result
            default:
                if firstError == nil { firstError = result.error(displayURL: displayURL) }
            }
        }
        if let firstError { throw firstError }
        if isBroken { throw failure("read a result") }
        guard let last else { throw PostgresError(.protocolViolation, "PostgreSQL at \(displayURL) returned no result.") }
        return last
    }

    // MARK: - Notifications

    /// Reads what arrived on the socket and returns the channels of the notifications received.
    func receiveNotifications() throws(PostgresError) -> [String] {
        guard let handle, PQconsumeInput(handle) == 1 else { throw failure("read notifications") }

        var channels: [String] = []
        while let notification = PQnotifies(handle) {
            channels.append(String(cString: notification.pointee.relname))
            PQfreemem(notification)
        }
        return channels
    }

    /// Waits until the socket is ready for `events` or `deadline` passes. Returns false on timeout.
    func waitForSocket(_ events: Int16, until deadline: ContinuousClock.Instant) throws(PostgresError) -> Bool {
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { return false }

            var descriptor = pollfd(fd: socket, events: events, revents: 0)
            let milliseconds = Int32(clamping: remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1)
            let ready = poll(&descriptor, 1, milliseconds)
            if ready > 0 { return true }
            if ready < 0, errno != EINTR {
                throw PostgresError(.connectionLost, "Waiting for PostgreSQL at \(displayURL) failed: \(String(cString: strerror(errno))).")
            }
        }
    }

    // MARK: - Errors

    private func failure(_ operation: String) -> PostgresError {
        let message = handle.map { Self.errorMessage(of: $0) } ?? "the connection is closed"
        close()
        return PostgresError(.connectionLost, "Lost the connection to PostgreSQL at \(displayURL) while trying to \(operation): \(message)")
    }

    private static func errorMessage(of handle: OpaquePointer?) -> String {
        guard let text = PQerrorMessage(handle) else { return "no details" }
        let message = String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
        return message.isEmpty ? "no details" : message
    }
}

/// The rows of one statement, as text, freed with the object.
final class PostgresResult {
    private let handle: OpaquePointer

    init(_ handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        PQclear(handle)
    }

    var rowCount: Int { Int(PQntuples(handle)) }

    /// The number of rows an INSERT, UPDATE or DELETE changed.
    var changedRowCount: Int { Int(String(cString: PQcmdTuples(handle))) ?? 0 }

    func isNull(_ row: Int, _ column: Int) -> Bool {
        PQgetisnull(handle, Int32(row), Int32(column)) == 1
    }

    func text(_ row: Int, _ column: Int) -> String {
        String(cString: PQgetvalue(handle, Int32(row), Int32(column)))
    }

    func bytes(_ row: Int, _ column: Int) -> UnsafeBufferPointer<UInt8> {
        let length = Int(PQgetlength(handle, Int32(row), Int32(column)))
        return PQgetvalue(handle, Int32(row), Int32(column)).withMemoryRebound(to: UInt8.self, capacity: length) {
            UnsafeBufferPointer(start: $0, count: length)
        }
    }

    func int64(_ row: Int, _ column: Int) -> Int64 {
        Int64(text(row, column)) ?? 0
    }

    func error(displayURL: String) -> PostgresError {
        let code = PQresultErrorField(handle, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
        let message = PQresultErrorField(handle, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            ?? String(cString: PQresultErrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
        return PostgresError(.server(code: code), "PostgreSQL at \(displayURL) reported: \(message) (SQLSTATE \(code))")
    }
}

/// Calls `body` with a NULL-terminated array of C strings that live for the call.
private func withCStrings<Result>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> Result) -> Result {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return body(copies.map { UnsafePointer($0) } + [nil])
}

/// Calls `body` with C strings for the parameters, NULL where a parameter is `nil`.
private func withOptionalCStrings<Result>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> Result) -> Result {
    let copies = strings.map { $0.map { strdup($0) } ?? nil }
    defer { copies.forEach { free($0) } }
    return body(copies.map { UnsafePointer($0) })
}
