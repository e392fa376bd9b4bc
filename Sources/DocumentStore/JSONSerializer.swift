extension JSONValue {
    /// Serializes the value as compact JSON. Object keys are sorted, so equal values always
    /// produce the same text; non-ASCII characters are written as UTF-8, not escaped.
    public func serialized() -> String {
        var writer = JSONWriter(indent: nil)
        writer.write(self, level: 0)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Serializes the value as indented JSON for people to read (`trigger-email get`).
    public func prettySerialized() -> String {
        var writer = JSONWriter(indent: Array("  ".utf8))
        writer.write(self, level: 0)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Writes integers without a fraction (`3`, not `3.0`) so that counters such as `attempts`
    /// read as JavaScript would print them. NaN and infinities have no JSON form, so they are
    /// written as `null`, as `JSON.stringify` does.
    public static func formatNumber(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 {
            return String(Int64(value))
        }
        return "\(value)"
    }

    static func writeString(_ value: String, to output: inout String) {
        var writer = JSONWriter(indent: nil)
        writer.writeString(value)
        output += String(decoding: writer.bytes, as: UTF8.self)
    }
}

/// Builds JSON text as UTF-8 bytes. Every document write serializes the whole document, and
/// byte appends skip the bookkeeping that each append to a `String` does.
private struct JSONWriter {
    let indent: [UInt8]?
    var bytes: [UInt8] = []

    init(indent: [UInt8]?) {
        self.indent = indent
        bytes.reserveCapacity(1024)
    }

    mutating func write(_ value: JSONValue, level: Int) {
        switch value {
        case .null:
            append("null")
        case .bool(let flag):
            append(flag ? "true" : "false")
        case .number(let number):
            append(JSONValue.formatNumber(number))
        case .string(let text):
            writeString(text)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                startMember(index: index, level: level)
                write(element, level: level + 1)
            }
            endContainer(isEmpty: elements.isEmpty, level: level)
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            bytes.append(UInt8(ascii: "{"))
            // Sorting the members, not the keys, saves a hash lookup per member.
            for (index, member) in object.sorted(by: { $0.key < $1.key }).enumerated() {
                startMember(index: index, level: level)
                writeString(member.key)
                bytes.append(UInt8(ascii: ":"))
                if indent != nil { bytes.append(UInt8(ascii: " ")) }
                write(member.value, level: level + 1)
            }
            endContainer(isEmpty: object.isEmpty, level: level)
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private mutating func startMember(index: Int, level: Int) {
        if index > 0 { bytes.append(UInt8(ascii: ",")) }
        writeLineBreak(level: level + 1)
    }

    private mutating func endContainer(isEmpty: Bool, level: Int) {
        if !isEmpty { writeLineBreak(level: level) }
    }

    private mutating func writeLineBreak(level: Int) {
        guard let indent else { return }
        bytes.append(UInt8(ascii: "\n"))
        for _ in 0..<level { bytes.append(contentsOf: indent) }
    }

    private mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Writes a string literal, copying runs that need no escape in one step. Besides `"`, `\`
    /// and control characters, U+2028 and U+2029 are escaped, because JavaScript before ES2019
    /// could not read them inside string literals.
    mutating func writeString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var runStart = 0
            var index = 0
            while index < utf8.count {
                let byte = utf8[index]
                let isLineSeparator = byte == 0xE2 && index + 2 < utf8.count && utf8[index + 1] == 0x80
                    && (utf8[index + 2] == 0xA8 || utf8[index + 2] == 0xA9)
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || isLineSeparator else {
                    index += 1
                    continue
                }

                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                if isLineSeparator {
                    append(utf8[index + 2] == 0xA8 ? "\\u2028" : "\\u2029")
                    index += 3
                } else {
                    appendEscape(for: byte)
                    index += 1
                }
                runStart = index
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscape(for byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): append("\\\"")
        case UInt8(ascii: "\\"): append("\\\\")
        case UInt8(ascii: "\n"): append("\\n")
        case UInt8(ascii: "\r"): append("\\r")
        case UInt8(ascii: "\t"): append("\\t")
        case 0x08: append("\\b")
        case 0x0C: append("\\f")
        default:
            let hex = String(byte, radix: 16)
            append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
        }
    }
}
