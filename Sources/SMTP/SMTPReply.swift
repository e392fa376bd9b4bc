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

    private static func parseEnhancedStatusCode(_ text: String, code: Int) -> String? {
        let candidate = text.prefix { $0 != " " }
        let parts = candidate.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else {
            return nil
        }
        // RFC 3463: the class digit matches the reply code's first digit.
        guard let classDigit = parts.first, classDigit == String(code / 100) else { return nil }
        return String(candidate)
    }
}
