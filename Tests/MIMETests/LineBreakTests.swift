import Testing

@testable import MIME

@Suite("Canonical line breaks")
struct LineBreakTests {
    @Test("CR LF, lone CR and lone LF become CR LF", arguments: [
        ("a\nb", "a\r\nb"), ("a\rb", "a\r\nb"), ("a\r\nb", "a\r\nb"), ("\n\r\r\n\n", "\r\n\r\n\r\n\r\n"), ("a\n", "a\r\n"), ("\ra", "\r\na"), ("", ""),
    ])
    func examples(text: String, expected: String) {
        #expect(EncodedBody.canonicalLineBreaks(Array(text.utf8)) == Array(expected.utf8))
    }

    @Test("random bytes match byte-by-byte conversion")
    func randomBytes() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x0D, 0x0A, 0x41, 0xD0, 0x20]
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...60, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            #expect(EncodedBody.canonicalLineBreaks(bytes) == Self.byteByByte(bytes), "\(bytes)")
        }
    }

    private static func byteByByte(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case 0x0D:
                output += [0x0D, 0x0A]
                index += index + 1 < bytes.count && bytes[index + 1] == 0x0A ? 2 : 1
            case 0x0A:
                output += [0x0D, 0x0A]
                index += 1
            default:
                output.append(bytes[index])
                index += 1
            }
        }
        return output
    }
}
