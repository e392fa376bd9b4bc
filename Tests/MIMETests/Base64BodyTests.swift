import Foundation
import Testing

@testable import MIME

@Suite("Base64 bodies")
struct Base64BodyTests {
    @Test("matches Foundation for lengths 0 to 400")
    func matchesFoundation() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...400 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(Base64.encodeBody(bytes) == Self.foundationBody(bytes), "length \(length)")
        }
    }

    @Test("size matches encodedBodySize", arguments: [0, 1, 2, 3, 56, 57, 58, 114, 1000, 65_537])
    func predictedSize(length: Int) {
        #expect(Base64.encodeBody([UInt8](repeating: 0xA5, count: length)).count == Base64.encodedBodySize(length))
    }

    /// Encodes with Foundation, with a CRLF after every 76 characters and after the last line.
    private static func foundationBody(_ bytes: [UInt8]) -> [UInt8] {
        guard !bytes.isEmpty else { return [] }
        let text = Data(bytes).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return Array((text + "\r\n").utf8)
    }
}
