import Foundation
import Logging

/// One SMTP session, driven step by step on a blocking socket (RFC 5321 section 3):
/// greeting, EHLO, STARTTLS, AUTH, then mail transactions, then QUIT.
///
/// Every method blocks its thread until the server replies or a timeout passes; `SMTPClient`
/// runs sessions on threads of its own.
final class SMTPSession {
    let configuration: SMTPServerConfiguration
    private let tlsContext: TLSContext
    let logger: Logger
    var socket: SMTPSocket?
    /// The EHLO keywords the server announced, upper-cased, with their parameters.
    private(set) var extensions: [String: String] = [:]
    /// The server's greeting, as one line.
    private(set) var greetingText = ""
    /// Messages this session has delivered, for the cap on messages per connection.
    var messagesSent = 0
    /// Set when a transaction did not complete, so the next one starts with RSET.
    var needsReset = false
    /// Set when the connection failed below SMTP (closed, timed out, unreadable reply): the
    /// session cannot be used again.
    var isBroken = false

    init(configuration: SMTPServerConfiguration, tlsContext: TLSContext, logger: Logger) {
        self.configuration = configuration
        self.tlsContext = tlsContext
        self.logger = logger
    }

    deinit {
        socket?.close()
    }

    var server: String { configuration.serverDescription }

    private var tlsName: String { configuration.tls.serverName ?? configuration.host }

    // MARK: - Opening

    /// Connects, reads the greeting, sends EHLO, upgrades to TLS and authenticates as configured.
    /// `accessToken` is the bearer token for XOAUTH2, which the caller fetched beforehand.
    func open(accessToken: String? = nil) throws(SMTPError) {
        let timeouts = configuration.timeouts
        let socket: SMTPSocket
        do {
            socket = try SMTPSocket.connect(host: configuration.host, port: configuration.port, timeout: timeouts.connect)
        } catch {
            throw SMTPError(step: .connect, server: server, detail: "\(error)")
        }
        self.socket = socket
        logger.debug("connected", ["smtp.server": server])

        if configuration.security == .implicitTLS {
            try handshake(on: socket)
        }

        let greeting = try readReply(step: .greeting, command: nil, timeout: timeouts.greeting)
        greetingText = greeting.description
        guard greeting.code == 220 else {
            throw SMTPError(step: .greeting, server: server, reply: greeting, detail: "the server does not accept mail now")
        }

        try hello()

        if configuration.security == .startTLSWhenOffered {
            try upgradeToTLS(socket)
        }

        try authenticate(accessToken: accessToken)
    }

    /// Upgrades a clear-text connection with STARTTLS as `configuration.startTLS` sets (RFC 3207).
    private func upgradeToTLS(_ socket: SMTPSocket) throws(SMTPError) {
        guard configuration.startTLS != .never else { return }
        guard extensions["STARTTLS"] != nil else {
            if configuration.startTLS == .required {
                throw SMTPError(
                    step: .startTLS, server: server,
                    detail: "the server does not offer STARTTLS and requireTLS is set, so nothing was sent in clear text; use smtps:// or a server that offers STARTTLS")
            }
            return
        }

        let reply = try exchange(.startTLS, step: .startTLS)
        guard reply.code == 220 else {
            throw SMTPError(step: .startTLS, server: server, command: .startTLS, reply: reply)
        }
        try handshake(on: socket)
        // RFC 3207 section 4.2: forget what was learned before TLS and ask again.
        try hello()
    }

    private func handshake(on socket: SMTPSocket) throws(SMTPError) {
        do {
            try socket.startTLS(context: tlsContext, expectedName: tlsName, timeout: configuration.timeouts.greeting)
        } catch {
            throw SMTPError(step: .tlsHandshake, server: server, detail: "\(error)")
        }
        logger.debug("TLS established", ["smtp.server": server, "tls.version": socket.tlsVersion ?? "unknown"])
    }

    /// EHLO, falling back to HELO for servers that do not know EHLO (RFC 5321 section 4.1.1.1).
    private func hello() throws(SMTPError) {
        let ehlo = SMTPCommand.ehlo(configuration.heloName)
        let reply = try exchange(ehlo, step: .hello)
        if reply.code == 250 {
            extensions = Self.parseExtensions(reply)
            return
        }
        // Only a server that does not know EHLO (500, 502) gets HELO. Any other refusal, such
        // as 421 or 554, is the server's reply to this client.
        guard reply.code == 500 || reply.code == 502 else {
            if reply.code == 421 { isBroken = true }
            throw SMTPError(step: .hello, server: server, command: ehlo, reply: reply)
        }

        let helo = SMTPCommand.helo(configuration.heloName)
        let heloReply = try exchange(helo, step: .hello)
        guard heloReply.code == 250 else {
            throw SMTPError(step: .hello, server: server, command: helo, reply: heloReply)
        }
        extensions = [:]
    }

    /// Returns whether `host` names this machine, where a password sent in clear text never
    /// crosses a network.
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }

        var address = in_addr()
        guard inet_pton(AF_INET, host, &address) == 1 else { return false }
        return UInt32(bigEndian: address.s_addr) >> 24 == 127
    }

    static func parseExtensions(_ reply: SMTPReply) -> [String: String] {
        var extensions: [String: String] = [:]
        for line in reply.lines.dropFirst() {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard let keyword = parts.first else { continue }
            extensions[keyword.uppercased()] = parts.count > 1 ? String(parts[1]) : ""
        }
        return extensions
    }

    // MARK: - AUTH

    private func authenticate(accessToken: String?) throws(SMTPError) {
        switch configuration.authentication {
        case .password(let credentials)?:
            try authenticate(credentials)
        case .oauth2(let user, _)?:
            try authenticateWithXOAuth2(user: user, accessToken: accessToken)
        case nil:
            break
        }
    }

    /// Authenticates with PLAIN (RFC 4616) when offered, otherwise LOGIN.
    private func authenticate(_ credentials: Credentials) throws(SMTPError) {
        guard socket?.isTLS == true || Self.isLoopback(configuration.host) else {
            throw SMTPError(
                step: .authentication, server: server,
                detail: "the connection is not encrypted (the server offered no STARTTLS, or ignoreTLS is set), so the password was not sent; use smtps:// or STARTTLS")
        }

        let mechanisms = Set((extensions["AUTH"] ?? "").uppercased().split(separator: " ").map(String.init))

        if mechanisms.contains("PLAIN") {
            let command = SMTPCommand.authPlain(user: credentials.user, password: credentials.password)
            let reply = try exchange(command, step: .authentication)
            try expectAuthenticated(reply, command: command)
        } else if mechanisms.contains("LOGIN") {
            try authenticateWithLogin(credentials)
        } else if mechanisms.isEmpty {
            let detail = socket?.isTLS == true
                ? "the server does not offer AUTH; remove the user from SMTP_CONNECTION_URI if it needs none"
                : "the server does not offer AUTH on this unencrypted connection; use smtps:// or a server that offers STARTTLS"
            throw SMTPError(step: .authentication, server: server, detail: detail)
        } else {
            throw SMTPError(
                step: .authentication, server: server,
                detail: "the server offers only \(mechanisms.sorted().joined(separator: ", ")); PLAIN and LOGIN are supported")
        }
        logger.debug("authenticated", ["smtp.server": server, "smtp.user": credentials.user])
    }

    private func authenticateWithLogin(_ credentials: Credentials) throws(SMTPError) {
        let start = try exchange(.authLogin, step: .authentication)
        guard start.code == 334 else {
            throw SMTPError(step: .authentication, server: server, command: .authLogin, reply: start)
        }

        let user = SMTPCommand.saslResponse(credentials.user, describedAs: "user name")
        let userReply = try exchange(user, step: .authentication)
        guard userReply.code == 334 else {
            throw SMTPError(step: .authentication, server: server, command: .authLogin, reply: userReply)
        }

        let password = SMTPCommand.saslResponse(credentials.password, describedAs: "password")
        let reply = try exchange(password, step: .authentication)
        try expectAuthenticated(reply, command: .authLogin)
    }

    private func expectAuthenticated(_ reply: SMTPReply, command: SMTPCommand) throws(SMTPError) {
        guard reply.code == 235 else {
            // 535 means the credentials themselves were refused (RFC 4954 section 6); other
            // replies, such as 421 or 454, are about the server, not the password.
            if reply.code == 421 { isBroken = true }
            throw SMTPError(
                step: .authentication, server: server, command: command, reply: reply,
                detail: reply.code == 535 ? "check the user in SMTP_CONNECTION_URI and SMTP_PASSWORD" : nil)
        }
    }

    /// Authenticates with XOAUTH2, the bearer token mechanism of Gmail and Microsoft 365. A
    /// server that rejects the token sends a 334 challenge with a JSON error first, and the
    /// client responds with an empty line to get the final reply.
    private func authenticateWithXOAuth2(user: String, accessToken: String?) throws(SMTPError) {
        guard socket?.isTLS == true || Self.isLoopback(configuration.host) else {
            throw SMTPError(
                step: .authentication, server: server,
                detail: "the server did not offer STARTTLS, so the access token was not sent over the unencrypted connection; set OAUTH_SECURE=true or use a server that offers STARTTLS")
        }
        guard let accessToken else {
            throw SMTPError(step: .authentication, server: server, detail: "no access token was fetched for XOAUTH2")
        }
        guard !(user + accessToken).unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw SMTPError(
                step: .authentication, server: server,
                detail: "the user name or the access token contains a control character, which the XOAUTH2 line cannot carry")
        }

        let mechanisms = Set((extensions["AUTH"] ?? "").uppercased().split(separator: " ").map(String.init))
        guard mechanisms.contains("XOAUTH2") else {
            let offered = mechanisms.isEmpty ? "no AUTH mechanism" : "only \(mechanisms.sorted().joined(separator: ", "))"
            throw SMTPError(
                step: .authentication, server: server,
                detail: "the server offers \(offered), but AUTH_TYPE=OAuth2 needs XOAUTH2")
        }

        let command = SMTPCommand.authXOAuth2(user: user, accessToken: accessToken)
        var reply = try exchange(command, step: .authentication)
        var challenge: String?
        if reply.code == 334 {
            challenge = Self.decodedChallenge(reply)
            reply = try exchange(.saslEmptyResponse, step: .authentication)
        }
        guard reply.code == 235 else {
            var detail = "check that USER (\(user)) is the mailbox that the refresh token was issued for, and that the token's scope allows SMTP"
            if let challenge {
                detail = "the server's XOAUTH2 error is \(challenge); " + detail
            }
            throw SMTPError(step: .authentication, server: server, command: command.redacted, reply: reply, detail: detail)
        }
        logger.debug("authenticated", ["smtp.server": server, "smtp.user": user, "smtp.mechanism": "XOAUTH2"])
    }

    /// Returns the text of a base64 SASL challenge, such as `{"status":"401","schemes":"Bearer"}`,
    /// without control characters and cut at 200 characters, or `nil` when it is not base64.
    static func decodedChallenge(_ reply: SMTPReply) -> String? {
        guard let data = Data(base64Encoded: reply.lines.joined()), !data.isEmpty else { return nil }
        let text = String(decoding: data, as: UTF8.self).unicodeScalars.filter { $0.properties.generalCategory != .control }
        return String(String.UnicodeScalarView(text.prefix(200)))
    }

    // MARK: - Closing

    /// Says QUIT politely and closes; failures do not matter any more at this point.
    func close() {
        if let socket {
            // A broken connection is out of step with the server, so QUIT would only wait.
            if !isBroken {
                _ = try? exchange(.quit, step: .hello, timeout: .seconds(2))
            }
            socket.close()
        }
        socket = nil
    }

    // MARK: - Wire

    func exchange(_ command: SMTPCommand, step: SMTPError.Step, timeout: Duration? = nil) throws(SMTPError) -> SMTPReply {
        guard let socket else { throw SMTPError(step: step, server: server, detail: "not connected") }
        let deadline = Deadline(after: timeout ?? configuration.timeouts.command)

        logger.trace("command", ["smtp.command": command.logLine])
        do {
            try socket.write(Array((command.wireLine + "\r\n").utf8), deadline: deadline, what: "sending \(command.logLine)")
            let reply = try readReply(socket: socket, deadline: deadline, what: "waiting for the reply to \(command.logLine)")
            // 421 announces that the server closes the connection (RFC 5321 section 3.8).
            if reply.code == 421 { isBroken = true }
            return reply
        } catch let error as TransportError {
            isBroken = true
            throw SMTPError(step: step, server: server, command: command, detail: error.message)
        } catch {
            throw SMTPError(step: step, server: server, command: command, detail: "\(error)")
        }
    }

    private func readReply(step: SMTPError.Step, command: SMTPCommand?, timeout: Duration) throws(SMTPError) -> SMTPReply {
        guard let socket else { throw SMTPError(step: step, server: server, detail: "not connected") }
        do {
            return try readReply(socket: socket, deadline: Deadline(after: timeout), what: "waiting for the greeting")
        } catch let error as TransportError {
            isBroken = true
            throw SMTPError(step: step, server: server, command: command, detail: error.message)
        } catch {
            throw SMTPError(step: step, server: server, command: command, detail: "\(error)")
        }
    }

    /// Reads a possibly multi-line reply: `250-first`, `250-second`, `250 last`.
    func readReply(socket: SMTPSocket, deadline: Deadline, what: String) throws -> SMTPReply {
        var lines: [String] = []
        var code: Int?

        while true {
            let line = try socket.readLine(deadline: deadline, what: what)
            logger.trace("reply line", ["smtp.reply": line])

            let bytes = Array(line.utf8)
            guard bytes.count >= 3, let lineCode = Int(String(decoding: bytes[0..<3], as: UTF8.self)), (200...599).contains(lineCode) else {
                throw TransportError(kind: .system, message: "the server sent a malformed reply line \"\(line.prefix(200))\"")
            }
            if let code, code != lineCode {
                throw TransportError(kind: .system, message: "the server changed the reply code within one reply (\(code), then \(lineCode))")
            }
            code = lineCode

            let separator = bytes.count > 3 ? bytes[3] : UInt8(ascii: " ")
            lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
            if separator != UInt8(ascii: "-") {
                return SMTPReply(code: lineCode, lines: lines)
            }
            guard lines.count <= 100 else {
                throw TransportError(kind: .system, message: "the server sent a reply of more than 100 lines")
            }
        }
    }
}

/// A message to send: the envelope and the message bytes.
public struct SMTPEnvelope: Sendable {
    public var sender: String
    public var recipients: [String]
    /// The message with CRLF line ends, before dot-stuffing.
    public var message: [UInt8]
    /// Whether an address or header field has UTF-8, so the server must offer SMTPUTF8.
    public var requiresSMTPUTF8: Bool
    /// Whether the body has octets above 127, so the server must offer 8BITMIME.
    public var containsEightBitBody: Bool

    public init(
        sender: String, recipients: [String], message: [UInt8], requiresSMTPUTF8: Bool = false,
        containsEightBitBody: Bool = false
    ) {
        self.sender = sender
        self.recipients = recipients
        self.message = message
        self.requiresSMTPUTF8 = requiresSMTPUTF8
        self.containsEightBitBody = containsEightBitBody
    }
}

/// The server's reply per recipient, and its last reply.
public struct SMTPDeliveryReport: Sendable, Equatable {
    /// Recipients the server accepted (2xx to RCPT TO).
    public var accepted: [String] = []
    /// Recipients refused for good (5xx).
    public var rejected: [String] = []
    /// Recipients refused for now (4xx); they did not get the message.
    public var pending: [String] = []
    /// Each refused recipient with the server's reply, for logs.
    public var recipientReplies: [String] = []
    /// The reply to the message data, such as `250 2.0.0 Ok: queued as 4Xc9`.
    public var response: String = ""

    public init() {}
}
