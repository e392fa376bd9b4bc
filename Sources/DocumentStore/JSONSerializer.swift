extension JSONValue {
    /// Serializes the value as compact JSON. Object keys are sorted, so equal values always
    /// produce the same text; non-ASCII characters are written as UTF-8, not escaped.
    public func serialized() -> String {
        var output = ""
        output.reserveCapacity(256)
        write(to: &output, indent: nil, level: 0)
        return output
    }

    /// Serializes the value as indented JSON for people to read (`trigger-email get`).
    public func prettySerialized() -> String {
        var output = ""
        write(to: &output, indent: "  ", level: 0)
        return output
    }

    private func write(to output: inout String, indent: String?, level: Int) {
        switch self {
        case .null:
            output += "null"
        case .bool(let value):
            output += value ? "true" : "false"
        case .number(let value):
            output += Self.formatNumber(value)
        case .string(let value):
            Self.writeString(value, to: &output)
        case .array(let elements):
            writeContainer(
                elements.map { element in { (output: inout String, level: Int) in element.write(to: &output, indent: indent, level: level) } },
                open: "[", close: "]", indent: indent, level: level, to: &output)
        case .object(let object):
            let members = object.keys.sorted().map { key in
                { (output: inout String, level: Int) in
                    Self.writeString(key, to: &output)
                    output += indent == nil ? ":" : ": "
                    object[key]!.write(to: &output, indent: indent, level: level)
                }
            }
            writeContainer(members, open: "{", close: "}", indent: indent, level: level, to: &output)
        }
    }

    private func writeContainer(
        _ members: [(inout String, Int) -> Void], open: String, close: String, indent: String?, level: Int,
        to output: inout String
    ) {
        output += open
        guard !members.isEmpty else {
            output += close
            return
        }

        for (index, writeMember) in members.enumerated() {
            if index > 0 { output += "," }
            if let indent {
                output += "\n" + String(repeating: indent, count: level + 1)
            }
            writeMember(&output, level + 1)
        }
        if let indent {
            output += "\n" + String(repeating: indent, count: level)
        }
        output += close
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
        output += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            case "\u{00}"..."\u{1F}", "\u{2028}", "\u{2029}":
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}
