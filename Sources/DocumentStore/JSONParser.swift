import Foundation

/// Raised for text that is not valid JSON, with the byte offset where reading stopped.
public struct JSONSyntaxError: Error, CustomStringConvertible, Equatable {
    public var reason: String
    public var offset: Int

    public init(reason: String, offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "Invalid JSON at byte \(offset): \(reason)." }
}

extension JSONValue {
    /// Parses JSON text (RFC 8259). The whole input must be one value, with optional whitespace
    /// around it.
    public init(parsing text: some StringProtocol) throws(JSONSyntaxError) {
        try self.init(parsing: Array(text.utf8))
    }

    public init(parsing bytes: [UInt8]) throws(JSONSyntaxError) {
        var parser = JSONParser(bytes: bytes)
        self = try parser.parseDocument()
    }
}

/// A recursive-descent reader over UTF-8 bytes. Nesting is capped so that hostile input cannot
/// exhaust the stack.
struct JSONParser {
    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0
    private static let maxDepth = 512

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func parseDocument() throws(JSONSyntaxError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected text after the JSON value") }
        return value
    }

    private func error(_ reason: String) -> JSONSyntaxError {
        JSONSyntaxError(reason: reason, offset: position)
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard position < bytes.count else { throw error("unexpected end of input") }

        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character '\(UnicodeScalar(bytes[position]))'")
        }
    }

    private mutating func expectLiteral(_ literal: String) throws(JSONSyntaxError) {
        let expected = Array(literal.utf8)
        guard position + expected.count <= bytes.count else { throw error("unexpected end of input") }

        for index in expected.indices where bytes[position + index] != expected[index] {
            throw error("invalid literal, expected \(literal)")
        }
        position += expected.count
    }

    private mutating func enterContainer() throws(JSONSyntaxError) {
        depth += 1
        guard depth <= Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth) levels") }
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        try enterContainer()
        defer { depth -= 1 }
        position += 1

        var object = JSONObject()
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(object)
        }

        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw error("expected a string as object key")
            }
            let key = try parseString()

            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                throw error("expected ':' after object key")
            }
            position += 1
            skipWhitespace()
            object[key] = try parseValue()

            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of input inside an object") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            guard bytes[position] == UInt8(ascii: "}") else { throw error("expected ',' or '}' in an object") }
            position += 1
            return .object(object)
        }
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        try enterContainer()
        defer { depth -= 1 }
        position += 1

        var array: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(array)
        }

        while true {
            skipWhitespace()
            array.append(try parseValue())

            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of input inside an array") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            guard bytes[position] == UInt8(ascii: "]") else { throw error("expected ',' or ']' in an array") }
            position += 1
            return .array(array)
        }
    }

    /// Reads a string in one pass: runs of plain bytes are copied whole into a byte buffer and
    /// the text is decoded once at the end, so long strings with many escapes cost linear time.
    private mutating func parseString() throws(JSONSyntaxError) -> String {
        position += 1
        let start = position
        // Most strings have no escape: one scan without bounds checks finds their end, and the
        // bytes go to the string in one piece.
        position = Self.endOfPlainRun(in: bytes, from: position)
        if position < bytes.count, bytes[position] == UInt8(ascii: "\"") {
            position += 1
            return try decodeUTF8(bytes[start..<(position - 1)], at: start)
        }

        var buffer: [UInt8] = []
        var runStart = start
        var hasEscapes = false

        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                let end = position
                position += 1
                if !hasEscapes {
                    return try decodeUTF8(bytes[start..<end], at: start)
                }
                buffer.append(contentsOf: bytes[runStart..<end])
                return try decodeUTF8(buffer[...], at: start)
            case UInt8(ascii: "\\"):
                hasEscapes = true
                buffer.append(contentsOf: bytes[runStart..<position])
                position += 1
                buffer.append(contentsOf: String(try parseEscape()).utf8)
                runStart = position
            case 0x00..<0x20:
                throw error("unescaped control character in a string")
            default:
                position = Self.endOfPlainRun(in: bytes, from: position)
            }
        }
        throw error("unterminated string")
    }

    /// Returns the position of the first quote, backslash or control character at or after
    /// `start`, or the end of the bytes.
    private static func endOfPlainRun(in bytes: [UInt8], from start: Int) -> Int {
        bytes.withUnsafeBufferPointer { buffer in
            var index = start
            while index < buffer.count {
                let byte = buffer[index]
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { return index }
                index += 1
            }
            return index
        }
    }

    private func decodeUTF8(_ text: ArraySlice<UInt8>, at offset: Int) throws(JSONSyntaxError) -> String {
        guard let string = String(validating: text, as: UTF8.self) else {
            throw JSONSyntaxError(reason: "a string is not valid UTF-8", offset: offset)
        }
        return string
    }

    private mutating func parseEscape() throws(JSONSyntaxError) -> UnicodeScalar {
        let backslash = position - 1
        guard position < bytes.count else { throw error("unterminated escape sequence") }
        let byte = bytes[position]
        position += 1

        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"): return try parseUnicodeEscape()
        default: throw JSONSyntaxError(reason: "invalid escape sequence", offset: backslash)
        }
    }

    /// Reads `XXXX` after `\u`, joining a UTF-16 surrogate pair written as two escapes. A lone
    /// surrogate cannot be a Swift string, so it becomes U+FFFD as browsers do.
    ///
    /// NOTE: that replacement is silent; a document with a lone surrogate keeps U+FFFD.
    private mutating func parseUnicodeEscape() throws(JSONSyntaxError) -> UnicodeScalar {
        let first = try parseHexQuad()
        guard (0xD800...0xDBFF).contains(first) else {
            return UnicodeScalar(first) ?? "\u{FFFD}"
        }

        let hasLowSurrogate = position + 1 < bytes.count
            && bytes[position] == UInt8(ascii: "\\") && bytes[position + 1] == UInt8(ascii: "u")
        guard hasLowSurrogate else { return "\u{FFFD}" }

        let saved = position
        position += 2
        let second = try parseHexQuad()
        guard (0xDC00...0xDFFF).contains(second) else {
            position = saved
            return "\u{FFFD}"
        }
        let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        return UnicodeScalar(combined) ?? "\u{FFFD}"
    }

    private mutating func parseHexQuad() throws(JSONSyntaxError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("incomplete \\u escape") }

        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> Double {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }

        guard position < bytes.count, isDigit(bytes[position]) else { throw error("invalid number") }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            skipDigits()
        }

        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else { throw error("invalid number") }
            skipDigits()
        }

        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard position < bytes.count, isDigit(bytes[position]) else { throw error("invalid number") }
            skipDigits()
        }

        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw error("number out of range") }
        return value
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private mutating func skipDigits() {
        while position < bytes.count, isDigit(bytes[position]) { position += 1 }
    }
}
