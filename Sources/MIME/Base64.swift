/// Base64 (RFC 4648) for MIME bodies and encoded-words.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var output = [UInt8]()
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        appendEncoded(bytes[...], to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Encodes a body with CRLF after every 76 characters (RFC 2045 section 6.8). Bodies are
    /// encoded for every message, so the output is written into storage of its final size
    /// instead of being appended to byte by byte.
    static func encodeBody(_ bytes: [UInt8]) -> [UInt8] {
        let size = encodedBodySize(bytes.count)
        return bytes.withUnsafeBufferPointer { input in
            alphabet.withUnsafeBufferPointer { alphabet in
                [UInt8](unsafeUninitializedCapacity: size) { output, written in
                    var position = 0
                    var start = 0
                    while start < input.count {
                        let end = min(start + 57, input.count)
                        var index = start
                        while index + 3 <= end {
                            let value = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
                            output[position] = alphabet[Int(value >> 18 & 0x3F)]
                            output[position + 1] = alphabet[Int(value >> 12 & 0x3F)]
                            output[position + 2] = alphabet[Int(value >> 6 & 0x3F)]
                            output[position + 3] = alphabet[Int(value & 0x3F)]
                            position += 4
                            index += 3
                        }
                        if index < end {
                            let second = index + 1 < end ? UInt32(input[index + 1]) : 0
                            let value = UInt32(input[index]) << 16 | second << 8
                            output[position] = alphabet[Int(value >> 18 & 0x3F)]
                            output[position + 1] = alphabet[Int(value >> 12 & 0x3F)]
                            output[position + 2] = index + 1 < end ? alphabet[Int(value >> 6 & 0x3F)] : UInt8(ascii: "=")
                            output[position + 3] = UInt8(ascii: "=")
                            position += 4
                        }
                        output[position] = 0x0D
                        output[position + 1] = 0x0A
                        position += 2
                        start = end
                    }
                    written = position
                }
            }
        }
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
