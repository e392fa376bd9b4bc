/// Quoted-printable (RFC 2045 section 6.7) for text bodies that are mostly ASCII.
enum QuotedPrintable {
    static let maxLineLength = 76
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// Encodes text whose line breaks are CRLF. Line breaks stay hard breaks; long lines get soft
    /// breaks (`=` CRLF). A line starting with `From ` is written `=46rom ` so that mbox files
    /// do not mangle it.
    static func encode(_ text: [UInt8]) -> [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(text.count * 3 / 2)

        for (index, line) in splitLines(text).enumerated() {
            if index > 0 { output += [0x0D, 0x0A] }
            encodeLine(line, to: &output)
        }
        return output
    }

    private static func splitLines(_ text: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while index < text.count {
            if text[index] == 0x0D, index + 1 < text.count, text[index + 1] == 0x0A {
                lines.append(text[start..<index])
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        lines.append(text[start..<text.count])
        return lines
    }

    private static func encodeLine(_ line: ArraySlice<UInt8>, to output: inout [UInt8]) {
        var lineLength = 0
        let startsWithFrom = line.starts(with: Array("From ".utf8))

        for (offset, byte) in line.enumerated() {
            let index = line.startIndex + offset
            let isLast = index == line.endIndex - 1
            let token = encodedToken(byte, isLast: isLast, forceEncoding: offset == 0 && startsWithFrom)

            // Keep room for the "=" of a soft break unless this is the line's last token.
            let limit = isLast ? maxLineLength : maxLineLength - 1
            if lineLength + token.count > limit {
                output += [UInt8(ascii: "="), 0x0D, 0x0A]
                lineLength = 0
            }
            output += token
            lineLength += token.count
        }
    }

    private static func encodedToken(_ byte: UInt8, isLast: Bool, forceEncoding: Bool) -> [UInt8] {
        let isLiteral: Bool
        switch byte {
        case 0x21...0x3C, 0x3E...0x7E: isLiteral = !forceEncoding
        case 0x20, 0x09: isLiteral = !isLast
        default: isLiteral = false
        }
        if isLiteral { return [byte] }
        return [UInt8(ascii: "="), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
    }
}
