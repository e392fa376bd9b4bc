/// Quoted-printable (RFC 2045 section 6.7) for text bodies that are mostly ASCII.
enum QuotedPrintable {
    static let maxLineLength = 76
    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Encodes text whose line breaks are CRLF. Line breaks stay hard breaks; long lines get soft
    /// breaks (`=` CRLF). A line starting with `From ` is written `=46rom ` so that mbox files
    /// do not mangle it.
    static func encode(_ text: [UInt8]) -> [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(encodedLength(text))
        _ = process(text, into: &output, writes: true)
        return output
    }

    /// Returns the length of `encode(text)` without building it, so a caller can choose
    /// base64 instead at the cost of one pass.
    static func encodedLength(_ text: [UInt8]) -> Int {
        var unused: [UInt8] = []
        return process(text, into: &unused, writes: false)
    }

    /// Encodes or, with `writes` false, only measures `text`, one line at a time. Both uses share
    /// this loop so that the measured length always equals the encoded one.
    private static func process(_ text: [UInt8], into output: inout [UInt8], writes: Bool) -> Int {
        text.withUnsafeBufferPointer { bytes in
            var length = 0
            var lineStart = 0
            var index = 0
            while true {
                let isLineEnd = index + 1 < bytes.count && bytes[index] == 0x0D && bytes[index + 1] == 0x0A
                guard index >= bytes.count || isLineEnd else {
                    index += 1
                    continue
                }

                if lineStart > 0 {
                    length += 2
                    if writes { output.append(0x0D); output.append(0x0A) }
                }
                length += encodeLine(bytes, lineStart..<min(index, bytes.count), into: &output, writes: writes)
                guard index < bytes.count else { return length }
                index += 2
                lineStart = index
            }
        }
    }

    private static func encodeLine(
        _ bytes: UnsafeBufferPointer<UInt8>, _ line: Range<Int>, into output: inout [UInt8], writes: Bool
    ) -> Int {
        var total = 0
        var lineLength = 0
        let startsWithFrom = line.count >= 5 && bytes[line.lowerBound] == UInt8(ascii: "F")
            && bytes[line.lowerBound + 1] == UInt8(ascii: "r") && bytes[line.lowerBound + 2] == UInt8(ascii: "o")
            && bytes[line.lowerBound + 3] == UInt8(ascii: "m") && bytes[line.lowerBound + 4] == UInt8(ascii: " ")

        for index in line {
            let byte = bytes[index]
            let isLast = index == line.upperBound - 1
            let isLiteral: Bool
            switch byte {
            case 0x21...0x3C, 0x3E...0x7E: isLiteral = !(index == line.lowerBound && startsWithFrom)
            case 0x20, 0x09: isLiteral = !isLast
            default: isLiteral = false
            }
            let tokenLength = isLiteral ? 1 : 3

            // Keep room for the "=" of a soft break unless this is the line's last token.
            let limit = isLast ? maxLineLength : maxLineLength - 1
            if lineLength + tokenLength > limit {
                total += 3
                if writes {
                    output.append(UInt8(ascii: "="))
                    output.append(0x0D)
                    output.append(0x0A)
                }
                lineLength = 0
            }

            total += tokenLength
            lineLength += tokenLength
            guard writes else { continue }
            if isLiteral {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "="))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return total
    }
}
