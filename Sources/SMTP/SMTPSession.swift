import Foundation
import Logging

/// One SMTP session, driven step by step on a blocking socket (RFC 5321 section 3):
/// greeting, EHLO, STARTTLS, AUTH, then mail transactions, then QUIT.
///
/// Every method blocks its thread until the server replies or a timeout passes; `SMTPClient`
/// runs sessions on threads of its own.
final class SMTPSession {
    private let configuration: SMTPServerConfiguration
    private let tlsContext: TLSContext
    private let logger: Logger
    private var socket: SMTPSocket?
    /// The EHLO keywords the server announced, upper-cased, with their parameters.
    private(set) var extensions: [String: String] = [:]

    init(configuration: SMTPServerConfiguration, tlsContext: TLSContext, logger: Logger) {
        self.configuration = configuration
        self.tlsContext = tlsContext
        self.logger = logger
    }

    deinit {
        socket?.close()
    }

    private var server: String { configuration.serverDescription }

    private var tlsName: String { configuration.tls.serverName ?? configuration.host }

    // MARK: - Opening

    /// Connects, reads the greeting, sends EHLO, upgrades to TLS and authenticates as configured.
    func open() throws(SMTPError) {
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
        guard greeting.code == 220 else {
            throw SMTPError(step: .greeting, server: server, reply: greeting, detail: "the server does not accept mail now")
        }

        try hello()

        if configuration.security == .startTLSWhenOffered, extensions["STARTTLS"] != nil {
            let reply = try exchange(.startTLS, step: .startTLS)
            guard reply.code == 220 else {
                throw SMTPError(step: .startTLS, server: server, command: .startTLS, reply: reply)
            }
            try handshake(on: socket)
            // RFC 3207 section 4.2: forget what was learned before TLS and ask again.
            try hello()
        }

        if let credentials = configuration.credentials {
            try authenticate(credentials)
        }
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

        let helo = SMTPCommand.helo(configuration.heloName)
        let heloReply = try exchange(helo, step: .hello)
        guard heloReply.code == 250 else {
            throw SMTPError(step: .hello, server: server, command: helo, reply: heloReply)
        }
        extensions = [:]
    }

    /// Whether `host` names this machine, where a password sent in clear text never crosses a
    /// network.
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

    /// Authenticates with PLAIN (RFC 4616) when offered, otherwise LOGIN.
    private func authenticate(_ credentials: Credentials) throws(SMTPError) {
        guard socket?.isTLS == true || Self.isLoopback(configuration.host) else {
            throw SMTPError(
                step: .authentication, server: server,
                detail: "the server did not offer STARTTLS, so the password was not sent over the unencrypted connection; use smtps:// or a server that offers STARTTLS")
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
            throw SMTPError(
                step: .authentication, server: server, command: command, reply: reply,
                detail: "check the user in SMTP_CONNECTION_URI and SMTP_PASSWORD")
        }
    }

    // MARK: - Mail transaction

    /// Sends one message (RFC 5321 section 3.3): MAIL FROM, a RCPT TO per recipient, DATA.
    /// Rejected recipients are reported, not thrown; only when none is accepted does it throw.
    func send(_ envelope: SMTPEnvelope) throws -> SMTPDeliveryReport {
        let mailFrom = SMTPCommand.mailFrom(envelope.sender, parameters: try mailParameters(for: envelope))
        let mailReply = try exchange(mailFrom, step: .mailFrom)
        guard mailReply.isPositiveCompletion else {
            throw SMTPError(step: .mailFrom, server: server, command: mailFrom, reply: mailReply)
        }

        var report = SMTPDeliveryReport()
        var rejections: [(recipient: String, reply: SMTPReply)] = []
        for recipient in envelope.recipients {
            let rcptTo = SMTPCommand.rcptTo(recipient)
            let reply = try exchange(rcptTo, step: .recipients)
            if reply.isPositiveCompletion {
                report.accepted.append(recipient)
            } else {
                if reply.isTransientFailure {
                    report.pending.append(recipient)
                } else {
                    report.rejected.append(recipient)
                }
                rejections.append((recipient, reply))
                logger.info("recipient rejected", ["smtp.recipient": recipient, "smtp.reply": reply.description])
            }
        }
        report.recipientReplies = rejections.map { "\($0.recipient): \($0.reply)" }

        guard !report.accepted.isEmpty else {
            _ = try? exchange(.reset, step: .recipients)
            throw NoRecipientAcceptedError(server: server, rejections: rejections)
        }

        let dataReply = try exchange(.data, step: .data)
        guard dataReply.code == 354 else {
            throw SMTPError(step: .data, server: server, command: .data, reply: dataReply)
        }

        let finalReply = try transmit(envelope.message)
        guard finalReply.isPositiveCompletion else {
            throw SMTPError(step: .messageData, server: server, reply: finalReply, detail: "the server rejected the message")
        }
        report.response = finalReply.description
        return report
    }

    /// The MAIL FROM parameters the message needs: `SMTPUTF8` (RFC 6531) for UTF-8 addresses
    /// and header fields, `BODY=8BITMIME` (RFC 6152) for octets above 127. Throws when the
    /// server does not offer what the message needs, because sending it anyway could corrupt it.
    private func mailParameters(for envelope: SMTPEnvelope) throws(SMTPError) -> [String] {
        var parameters: [String] = []
        if envelope.requiresSMTPUTF8 {
            guard extensions["SMTPUTF8"] != nil else {
                throw SMTPError(
                    step: .mailFrom, server: server,
                    detail: "an address has non-ASCII characters before the @, and the server does not offer SMTPUTF8; use an ASCII address or a server that supports SMTPUTF8")
            }
            parameters.append("SMTPUTF8")
        }
        if envelope.requiresSMTPUTF8 || envelope.containsEightBitBody {
            guard extensions["8BITMIME"] != nil else {
                throw SMTPError(
                    step: .mailFrom, server: server,
                    detail: "the message has 8-bit content and the server does not offer 8BITMIME; send the attachment or raw part in base64")
            }
            parameters.append("BODY=8BITMIME")
        }
        return parameters
    }

    /// Sends the message with dot-stuffing (RFC 5321 section 4.5.2) and the final `.`, then
    /// reads the reply. Once the data is on its way the server may deliver it even if the reply
    /// never arrives, so every failure from here on states that the message may have been delivered.
    private func transmit(_ message: [UInt8]) throws(SMTPError) -> SMTPReply {
        guard let socket else { throw SMTPError(step: .messageData, server: server, detail: "not connected") }
        let deadline = Deadline(after: configuration.timeouts.data)

        do {
            try socket.write(Self.dotStuffed(message), deadline: deadline, what: "sending the message data")
            logger.trace("sent message data", ["smtp.bytes": String(message.count)])
            return try readReply(socket: socket, deadline: deadline, what: "waiting for the reply to the message data")
        } catch let error as TransportError {
            throw SMTPError(step: .messageData, server: server, detail: error.message, mayHaveBeenDelivered: true)
        } catch {
            throw SMTPError(step: .messageData, server: server, detail: "\(error)", mayHaveBeenDelivered: true)
        }
    }

    static func dotStuffed(_ message: [UInt8]) -> [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(message.count + message.count / 64 + 5)

        var atLineStart = true
        for byte in message {
            if atLineStart, byte == UInt8(ascii: ".") {
                output.append(UInt8(ascii: "."))
            }
            output.append(byte)
            atLineStart = byte == 0x0A
        }
        if !atLineStart {
            output += [0x0D, 0x0A]
        }
        output += [UInt8(ascii: "."), 0x0D, 0x0A]
        return output
    }

    // MARK: - Closing

    /// Says QUIT politely and closes; failures do not matter any more at this point.
    func close() {
        if let socket {
            _ = try? exchange(.quit, step: .hello, timeout: .seconds(2))
            socket.close()
        }
        socket = nil
    }

    // MARK: - Wire

    private func exchange(_ command: SMTPCommand, step: SMTPError.Step, timeout: Duration? = nil) throws(SMTPError) -> SMTPReply {
        guard let socket else { throw SMTPError(step: step, server: server, detail: "not connected") }
        let deadline = Deadline(after: timeout ?? configuration.timeouts.command)

        logger.trace("command", ["smtp.command": command.logLine])
        do {
            try socket.write(Array((command.wireLine + "\r\n").utf8), deadline: deadline, what: "sending \(command.logLine)")
            return try readReply(socket: socket, deadline: deadline, what: "waiting for the reply to \(command.logLine)")
        } catch let error as TransportError {
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
            throw SMTPError(step: step, server: server, command: command, detail: error.message)
        } catch {
            throw SMTPError(step: step, server: server, command: command, detail: "\(error)")
        }
    }

    /// Reads a possibly multi-line reply: `250-first`, `250-second`, `250 last`.
    private func readReply(socket: SMTPSocket, deadline: Deadline, what: String) throws -> SMTPReply {
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
