/// The encoding of an attachment's `content` string. The names are those of Node.js `Buffer`
/// encodings, because nodemailer's users write them.
enum ContentEncoding: Sendable, Equatable {
    case base64
    case hex
    case utf8
    /// One byte per character, U+0000 to U+00FF; Node.js calls it both `binary` and `latin1`.
    case latin1
    case ascii

    /// The encoding named `name`, in any letter case; `nil` for a name outside the list above.
    init?(name: String) {
        switch name.lowercased() {
        case "base64": self = .base64
        case "hex": self = .hex
        case "utf-8", "utf8": self = .utf8
        case "binary", "latin1": self = .latin1
        case "ascii": self = .ascii
        default: return nil
        }
    }

    static let supportedNames = "base64, hex, utf-8, binary, latin1 or ascii"

    /// Decodes `text`. Unlike Node.js, which skips what it cannot decode, this throws, so that a
    /// damaged attachment is reported instead of being sent truncated.
    func decode(_ text: String) throws(AttachmentLoadingError) -> [UInt8] {
        switch self {
        case .base64:
            do {
                return try Base64Decoder.decode(text)
            } catch {
                throw AttachmentLoadingError("has content that is not valid base64 (\(error.reason))")
            }
        case .hex:
            return try Self.decodeHex(text)
        case .utf8:
            return Array(text.utf8)
        case .latin1:
            return try Self.decodeSingleBytes(text, maximum: 0xFF, encodingName: "latin1")
        case .ascii:
            return try Self.decodeSingleBytes(text, maximum: 0x7F, encodingName: "ascii")
        }
    }

    private static func decodeHex(_ text: String) throws(AttachmentLoadingError) -> [UInt8] {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else {
            throw AttachmentLoadingError("has content that is not valid hex (an odd number of digits, \(digits.count))")
        }

        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for offset in stride(from: 0, to: digits.count, by: 2) {
            guard let high = hexDigitValue(digits[offset]) else {
                throw AttachmentLoadingError("has content that is not valid hex (\(describeCharacter(in: text, atUTF8Offset: offset)))")
            }
            guard let low = hexDigitValue(digits[offset + 1]) else {
                throw AttachmentLoadingError("has content that is not valid hex (\(describeCharacter(in: text, atUTF8Offset: offset + 1)))")
            }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    /// Maps each Unicode scalar to one byte, throwing for the first scalar above `maximum`.
    private static func decodeSingleBytes(_ text: String, maximum: UInt32, encodingName: String) throws(AttachmentLoadingError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.unicodeScalars.count)
        for (offset, scalar) in text.unicodeScalars.enumerated() {
            guard scalar.value <= maximum else {
                throw AttachmentLoadingError(
                    "has content that the \(encodingName) encoding cannot represent (\(scalarName(scalar)) at character \(offset))")
            }
            bytes.append(UInt8(scalar.value))
        }
        return bytes
    }
}

/// Returns the value of a hexadecimal digit in either letter case.
func hexDigitValue(_ digit: UInt8) -> UInt8? {
    switch digit {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// Describes the character at a UTF-8 offset as `"g" at character 3`, for messages about
/// ASCII-based encodings. Characters are counted in Unicode scalars.
func describeCharacter(in text: String, atUTF8Offset offset: Int) -> String {
    var scalarStart = 0
    for (position, scalar) in text.unicodeScalars.enumerated() {
        let scalarEnd = scalarStart + UTF8.width(scalar)
        if offset < scalarEnd {
            return "\(scalarName(scalar)) at character \(position)"
        }
        scalarStart = scalarEnd
    }
    return "the end at character \(text.unicodeScalars.count)"
}

/// Writes a scalar as `"g"` when it is printable ASCII, otherwise as `U+00E9`.
func scalarName(_ scalar: Unicode.Scalar) -> String {
    if scalar.value >= 0x21 && scalar.value <= 0x7E {
        return "\"\(Character(scalar))\""
    }
    let hex = String(scalar.value, radix: 16, uppercase: true)
    return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
}
