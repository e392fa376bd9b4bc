import Foundation

/// The Content-Transfer-Encoding chosen for a text body, with the encoded bytes.
struct EncodedBody {
    var transferEncoding: String
    var bytes: [UInt8]

    /// Encodes UTF-8 text: `7bit` when it is ASCII with lines of at most 998 octets, otherwise
    /// quoted-printable or base64, whichever is smaller. Line breaks are made CRLF first,
    /// because that is the canonical form of text in MIME. The bytes carry no line break of
    /// their own at the end; the composer adds the one that precedes a boundary.
    static func encodeText(_ text: String) -> EncodedBody {
        let canonical = canonicalLineBreaks(Array(text.utf8))

        if isSevenBitSafe(canonical) {
            return EncodedBody(transferEncoding: "7bit", bytes: canonical)
        }

        // Each byte of 0x80 or more takes three characters in quoted-printable, so counting
        // them gives a lower bound that settles text in Cyrillic, Greek or CJK script without
        // measuring the encoding.
        let base64Size = Base64.encodedBodySize(canonical.count)
        let quotedPrintableMinimum = canonical.count + 2 * canonical.reduce(0) { $0 + ($1 >= 0x80 ? 1 : 0) }
        if quotedPrintableMinimum <= base64Size, QuotedPrintable.encodedLength(canonical) <= base64Size {
            return EncodedBody(transferEncoding: "quoted-printable", bytes: QuotedPrintable.encode(canonical))
        }
        return EncodedBody(transferEncoding: "base64", bytes: Base64.encodeBody(canonical))
    }

    /// Returns whether every CR in `bytes` is followed by LF and every LF follows CR, so that
    /// the common case costs one read of the text and no copy.
    private static func hasOnlyCRLFLineBreaks(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            for index in buffer.indices {
                switch buffer[index] {
                case 0x0D:
                    guard index + 1 < buffer.count, buffer[index + 1] == 0x0A else { return false }
                case 0x0A:
                    guard index > 0, buffer[index - 1] == 0x0D else { return false }
                default:
                    continue
                }
            }
            return true
        }
    }

    /// Turns CR LF, lone CR and lone LF into CR LF, copying the runs between line breaks whole.
    static func canonicalLineBreaks(_ bytes: [UInt8]) -> [UInt8] {
        if let converted = withLineFeedsOnly(bytes) { return converted }
        if hasOnlyCRLFLineBreaks(bytes) { return bytes }

        var output = [UInt8]()
        output.reserveCapacity(bytes.count + bytes.count / 32 + 2)
        bytes.withUnsafeBufferPointer { input in
            var runStart = 0
            var index = 0
            while index < input.count {
                let byte = input[index]
                guard byte == 0x0D || byte == 0x0A else {
                    index += 1
                    continue
                }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<index]))
                output.append(0x0D)
                output.append(0x0A)
                index += (byte == 0x0D && index + 1 < input.count && input[index + 1] == 0x0A) ? 2 : 1
                runStart = index
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<input.count]))
        }
        return output
    }

    /// Converts text without CR, the usual form of text written on Unix, or returns nil when
    /// the text has a CR. memchr finds the line feeds, so the bytes between them are neither
    /// visited nor copied one at a time.
    private static func withLineFeedsOnly(_ bytes: [UInt8]) -> [UInt8]? {
        bytes.withUnsafeBufferPointer { input -> [UInt8]? in
            guard let base = input.baseAddress else { return bytes }
            guard memchr(base, 0x0D, input.count) == nil else { return nil }
            guard memchr(base, 0x0A, input.count) != nil else { return bytes }

            var output = [UInt8]()
            output.reserveCapacity(input.count + input.count / 32 + 2)
            var runStart = 0
            while let lineFeed = memchr(base + runStart, 0x0A, input.count - runStart) {
                let index = base.distance(to: lineFeed.assumingMemoryBound(to: UInt8.self))
                output.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<index]))
                output.append(0x0D)
                output.append(0x0A)
                runStart = index + 1
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<input.count]))
            return output
        }
    }

    private static func isSevenBitSafe(_ bytes: [UInt8]) -> Bool {
        var lineLength = 0
        for byte in bytes {
            if byte >= 0x80 || byte == 0 { return false }
            if byte == 0x0A {
                lineLength = 0
            } else if byte != 0x0D {
                lineLength += 1
                if lineLength > 998 { return false }
            }
        }
        return true
    }
}
