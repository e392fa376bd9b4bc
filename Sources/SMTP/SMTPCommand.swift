/// One SMTP command line: the exact text sent to the server, and the text that may be logged or
/// quoted in an error. The two differ only for authentication, whose secrets never leave the
/// wire form.
public struct SMTPCommand: Sendable, Equatable, CustomStringConvertible {
    /// The line as sent, without the final CRLF.
    public let wireLine: String
    /// The line with secrets replaced by `<redacted>`.
    public let logLine: String

    public var description: String { logLine }

    init(wireLine: String, logLine: String? = nil) {
        self.wireLine = wireLine
        self.logLine = logLine ?? wireLine
    }

    static func ehlo(_ name: String) -> SMTPCommand { SMTPCommand(wireLine: "EHLO \(name)") }
    static func helo(_ name: String) -> SMTPCommand { SMTPCommand(wireLine: "HELO \(name)") }
    static let startTLS = SMTPCommand(wireLine: "STARTTLS")
    static func mailFrom(_ address: String, parameters: [String] = []) -> SMTPCommand {
        SMTPCommand(wireLine: (["MAIL FROM:<\(address)>"] + parameters).joined(separator: " "))
    }

    static func rcptTo(_ address: String) -> SMTPCommand { SMTPCommand(wireLine: "RCPT TO:<\(address)>") }
    static let data = SMTPCommand(wireLine: "DATA")
    static let reset = SMTPCommand(wireLine: "RSET")
    static let quit = SMTPCommand(wireLine: "QUIT")

    /// `AUTH PLAIN` with the initial response (RFC 4616): base64 of `\0user\0password`.
    static func authPlain(user: String, password: String) -> SMTPCommand {
        let response = Base64Text.encode(Array("\u{0}\(user)\u{0}\(password)".utf8))
        return SMTPCommand(wireLine: "AUTH PLAIN \(response)", logLine: "AUTH PLAIN <redacted>")
    }

    static let authLogin = SMTPCommand(wireLine: "AUTH LOGIN")

    /// Makes a line of a SASL exchange, such as the base64 user name or password of `AUTH LOGIN`.
    static func saslResponse(_ text: String, describedAs name: String) -> SMTPCommand {
        SMTPCommand(wireLine: Base64Text.encode(Array(text.utf8)), logLine: "<\(name) redacted>")
    }

    static let authXOAuth2LogLine = "AUTH XOAUTH2 <redacted>"

    /// `AUTH XOAUTH2` with the initial response of Google's XOAUTH2 mechanism, which Microsoft 365
    /// uses too: base64 of `user=USER^Aauth=Bearer TOKEN^A^A`, where `^A` is the byte 0x01.
    static func authXOAuth2(user: String, accessToken: String) -> SMTPCommand {
        let response = Base64Text.encode(Array("user=\(user)\u{1}auth=Bearer \(accessToken)\u{1}\u{1}".utf8))
        return SMTPCommand(wireLine: "AUTH XOAUTH2 \(response)", logLine: authXOAuth2LogLine)
    }

    /// The empty line that the client sends in response to the 334 challenge of a failed XOAUTH2
    /// exchange, after which the server sends its final reply.
    static let saslEmptyResponse = SMTPCommand(wireLine: "", logLine: "<empty SASL response>")

    /// A copy whose wire form is the log form too, for keeping in an error that outlives the
    /// exchange.
    var redacted: SMTPCommand { SMTPCommand(wireLine: logLine, logLine: logLine) }
}

/// Base64 for SASL lines; no line wrapping.
enum Base64Text {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var output = [UInt8]()
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value: UInt32 = 0
            for (offset, byte) in chunk.enumerated() {
                value |= UInt32(byte) << (16 - 8 * offset)
            }
            for position in 0..<4 {
                if position <= chunk.count {
                    output.append(alphabet[Int(value >> (18 - 6 * position) & 0x3F)])
                } else {
                    output.append(UInt8(ascii: "="))
                }
            }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}
