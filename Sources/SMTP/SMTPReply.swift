import Foundation

/// A server reply (RFC 5321 section 4.2): a three-digit reply code, the enhanced status code of
/// RFC 3463 when the server sends one, and the text lines.
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    /// `5.1.1` and the like, taken from the start of the first line's text.
    public var enhancedStatusCode: String?
    /// The text of each line, without the code and separator.
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
        self.enhancedStatusCode = Self.parseEnhancedStatusCode(lines.first ?? "", code: code)
    }

    public var isPositiveCompletion: Bool { (200..<300).contains(code) }
    public var isPositiveIntermediate: Bool { (300..<400).contains(code) }
    /// 4xx: the server may accept the same request later.
    public var isTransientFailure: Bool { (400..<500).contains(code) }
    /// 5xx: the server will not accept the same request.
    public var isPermanentFailure: Bool { (500..<600).contains(code) }

    /// The reply as one line, as it is quoted in errors and in `delivery.info.response`:
    /// `550 5.1.1 <a@example.org>: Recipient address rejected`.
    public var description: String {
        let text = lines.joined(separator: " ").trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? "\(code)" : "\(code) \(text)"
    }

    /// Parses `class.subject.detail` at the start of `text`, 1 to 3 ASCII digits each. Reads the
    /// UTF-8 bytes, because every reply of every message goes through here.
    private static func parseEnhancedStatusCode(_ text: String, code: Int) -> String? {
        var utf8 = text.utf8[...]
        let candidate = utf8.prefix { $0 != UInt8(ascii: " ") }
        var digitCounts: [Int] = [0]
        for byte in candidate {
            if byte == UInt8(ascii: ".") {
                digitCounts.append(0)
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                digitCounts[digitCounts.count - 1] += 1
            } else {
                return nil
            }
        }
        guard digitCounts.count == 3, digitCounts.allSatisfy({ (1...3).contains($0) }) else { return nil }

        // RFC 3463: the class digit matches the reply code's first digit.
        guard digitCounts[0] == 1, let classDigit = utf8.popFirst(), Int(classDigit - UInt8(ascii: "0")) == code / 100 else { return nil }
        return String(Substring(candidate))
    }
}
