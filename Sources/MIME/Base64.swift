/// Base64 (RFC 4648) for MIME bodies and encoded-words.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var output = [UInt8]()
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        appendEncoded(bytes[...], to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Encodes a body with CRLF after every 76 characters (RFC 2045 section 6.8).
    static func encodeBody(_ bytes: [UInt8]) -> [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity((bytes.count + 2) / 3 * 4 * 78 / 76 + 2)

        var start = 0
        while start < bytes.count {
            let end = min(start + 57, bytes.count)
            appendEncoded(bytes[start..<end], to: &output)
            output += [0x0D, 0x0A]
            start = end
        }
        return output
    }

    /// Returns the size `encodeBody` would produce, without encoding.
    static func encodedBodySize(_ byteCount: Int) -> Int {
        let lines = (byteCount + 56) / 57
        return (byteCount + 2) / 3 * 4 + lines * 2
    }

    private static func appendEncoded(_ bytes: ArraySlice<UInt8>, to output: inout [UInt8]) {
        var index = bytes.startIndex
        while index + 3 <= bytes.endIndex {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output.append(alphabet[Int(value >> 18 & 0x3F)])
            output.append(alphabet[Int(value >> 12 & 0x3F)])
            output.append(alphabet[Int(value >> 6 & 0x3F)])
            output.append(alphabet[Int(value & 0x3F)])
            index += 3
        }

        let remaining = bytes.endIndex - index
        if remaining == 1 {
            let value = UInt32(bytes[index]) << 16
            output.append(alphabet[Int(value >> 18 & 0x3F)])
            output.append(alphabet[Int(value >> 12 & 0x3F)])
            output += [UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if remaining == 2 {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            output.append(alphabet[Int(value >> 18 & 0x3F)])
            output.append(alphabet[Int(value >> 12 & 0x3F)])
            output.append(alphabet[Int(value >> 6 & 0x3F)])
            output.append(UInt8(ascii: "="))
        }
    }
}
