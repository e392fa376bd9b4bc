/// The "relaxed" canonicalization of RFC 6376: section 3.4.2 for header fields, section 3.4.4
/// for the body. Signer and verifier hash these forms, so whitespace changes and refolding in
/// transit do not break the signature.
enum DKIMCanonicalization {
    /// Canonicalizes one header field given as written (name, colon, value and folds, without
    /// the final CRLF) and returns `name:value` followed by CRLF.
    ///
    /// The name is lower-cased, white space around the colon is removed, the value is unfolded,
    /// every run of spaces and tabs becomes one space, and white space at the ends of the value
    /// is removed.
    static func relaxedHeader(_ field: ArraySlice<UInt8>) -> [UInt8] {
        let colon = field.firstIndex(of: DKIMByte.colon) ?? field.endIndex

        var name = field[..<colon]
        while let last = name.last, DKIMByte.isWhiteSpace(last) {
            name = name.dropLast()
        }
        var output = name.map(lowercasedASCII)
        output.append(DKIMByte.colon)
        let valueStart = output.count

        var pendingSpace = false
        var index = colon == field.endIndex ? colon : colon + 1
        while index < field.endIndex {
            let byte = field[index]
            if byte == DKIMByte.carriageReturn, index + 1 < field.endIndex, field[index + 1] == DKIMByte.lineFeed {
                // Unfolding removes the CRLF and keeps the white space after it.
                index += 2
                continue
            }

            if DKIMByte.isWhiteSpace(byte) {
                pendingSpace = true
            } else {
                if pendingSpace && output.count > valueStart { output.append(DKIMByte.space) }
                pendingSpace = false
                output.append(byte)
            }
            index += 1
        }

        output += [DKIMByte.carriageReturn, DKIMByte.lineFeed]
        return output
    }

    /// Canonicalizes a body: white space at the end of each line is removed, every other run of
    /// spaces and tabs becomes one space, and empty lines at the end are removed.
    ///
    /// An empty body, or one of only empty lines, canonicalizes to no octets at all (RFC 6376
    /// section 3.4.4, which differs from the "simple" algorithm's single CRLF). A last line
    /// without a CRLF gets one.
    static func relaxedBody(_ body: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(body.count)
        var withheldEmptyLines = 0

        var lineStart = body.startIndex
        while lineStart < body.endIndex {
            var lineEnd = lineStart
            while lineEnd < body.endIndex, !isCRLF(body, at: lineEnd) {
                lineEnd += 1
            }
            let line = body[lineStart..<lineEnd]

            // An empty line is only kept once a line with content follows it.
            if line.contains(where: { !DKIMByte.isWhiteSpace($0) }) {
                for _ in 0..<withheldEmptyLines {
                    output += [DKIMByte.carriageReturn, DKIMByte.lineFeed]
                }
                withheldEmptyLines = 0
                appendCollapsingWhiteSpace(line, to: &output)
                output += [DKIMByte.carriageReturn, DKIMByte.lineFeed]
            } else {
                withheldEmptyLines += 1
            }

            lineStart = lineEnd < body.endIndex ? lineEnd + 2 : body.endIndex
        }
        return output
    }

    /// Appends `line` with each run of white space reduced to one space and trailing white
    /// space removed. White space at the start of the line stays, as one space.
    private static func appendCollapsingWhiteSpace(_ line: ArraySlice<UInt8>, to output: inout [UInt8]) {
        var pendingSpace = false
        for byte in line {
            if DKIMByte.isWhiteSpace(byte) {
                pendingSpace = true
            } else {
                if pendingSpace { output.append(DKIMByte.space) }
                pendingSpace = false
                output.append(byte)
            }
        }
    }

    private static func isCRLF(_ bytes: ArraySlice<UInt8>, at index: Int) -> Bool {
        bytes[index] == DKIMByte.carriageReturn && index + 1 < bytes.endIndex && bytes[index + 1] == DKIMByte.lineFeed
    }

    private static func lowercasedASCII(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 0x20 : byte
    }
}
