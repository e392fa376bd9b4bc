import Testing

@testable import MIME

@Suite("Byte search")
struct ByteSearchTests {
    @Test("finds the first occurrence", arguments: [
        ("--=_abc--", "=_", 2), ("=_", "=_", 0), ("a=b=_", "=_", 3), ("==_", "=_", 1), ("=", "=_", nil), ("", "=_", nil),
        ("abc", "abcd", nil), ("x\r\n\r\ny", "\r\n\r\n", 1),
    ] as [(String, String, Int?)])
    func examples(haystack: String, pattern: String, expected: Int?) {
        #expect(Array(haystack.utf8).firstIndex(ofBytes: Array(pattern.utf8)) == expected)
    }

    @Test("random bytes match a naive search")
    func randomBytes() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x3D, 0x5F, 0x41]
        for _ in 0..<2000 {
            let haystack = (0..<Int.random(in: 0...40, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            let pattern = (0..<Int.random(in: 1...4, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            let naive = haystack.indices.first { start in
                start + pattern.count <= haystack.count && Array(haystack[start..<(start + pattern.count)]) == pattern
            }
            #expect(haystack.firstIndex(ofBytes: pattern) == naive, "\(haystack) \(pattern)")
        }
    }
}
