/// A base64 decoder as lenient as mail senders need and no more: it accepts the standard and
/// the URL-safe alphabets (RFC 4648 sections 4 and 5), line breaks and spaces anywhere, and
/// missing padding. Any other character, or padding before the end, is an error.
enum Base64Decoder {
    struct InvalidInput: Error {
        /// The problem found, such as `"!" at character 4`.
        var reason: String
    }

    static func decode(_ text: String) throws(InvalidInput) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count / 4 * 3)

        var group: UInt32 = 0
        var digitsInGroup = 0
        var paddingSeen = 0
        for (offset, byte) in text.utf8.enumerated() {
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") {
                continue
            }
            if byte == UInt8(ascii: "=") {
                paddingSeen += 1
                continue
            }
            guard paddingSeen == 0 else {
                throw InvalidInput(reason: "padding \"=\" before \(describeCharacter(in: text, atUTF8Offset: offset))")
            }
            guard let value = digitValue(byte) else {
                throw InvalidInput(reason: describeCharacter(in: text, atUTF8Offset: offset))
            }

            group = group << 6 | UInt32(value)
            digitsInGroup += 1
            if digitsInGroup == 4 {
                output.append(UInt8(truncatingIfNeeded: group >> 16))
                output.append(UInt8(truncatingIfNeeded: group >> 8))
                output.append(UInt8(truncatingIfNeeded: group))
                group = 0
                digitsInGroup = 0
            }
        }

        // A final group of 2 or 3 digits carries 1 or 2 bytes; a single digit carries none.
        switch digitsInGroup {
        case 2:
            output.append(UInt8(truncatingIfNeeded: group >> 4))
        case 3:
            output.append(UInt8(truncatingIfNeeded: group >> 10))
            output.append(UInt8(truncatingIfNeeded: group >> 2))
        case 1:
            throw InvalidInput(reason: "a single base64 digit at the end")
        default:
            break
        }
        guard paddingSeen <= 2 else {
            throw InvalidInput(reason: "\(paddingSeen) padding characters at the end")
        }
        return output
    }

    private static func digitValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"), UInt8(ascii: "-"): 62
        case UInt8(ascii: "/"), UInt8(ascii: "_"): 63
        default: nil
        }
    }
}
