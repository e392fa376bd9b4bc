/// MIME header parameters such as `filename` (RFC 2045 section 5.1, RFC 2231).
enum MIMEParameter {
    /// Characters of one encoded or quoted segment: a segment plus its name fits a folded line.
    static let maxSegmentLength = 60

    /// Returns whether `value` can be written as one plain quoted-string: printable ASCII and
    /// short.
    static func isPlainQuotable(_ value: String) -> Bool {
        value.utf8.count <= maxSegmentLength && value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
    }

    /// Returns `name="value"`, or RFC 2231 continuations (`name*0*=utf-8''...;`, `name*1*=...`)
    /// for a value that is long or not ASCII. All tokens but the last end in `;`, so they can be
    /// folded between.
    static func tokens(name: String, value: String) -> [String] {
        if isPlainQuotable(value) {
            return ["\(name)=\(quoted(value))"]
        }

        let segments = percentEncodedSegments(value)
        guard segments.count > 1 else {
            return ["\(name)*=utf-8''\(segments[0])"]
        }
        return segments.enumerated().map { index, segment in
            let prefix = index == 0 ? "utf-8''" : ""
            let separator = index < segments.count - 1 ? ";" : ""
            return "\(name)*\(index)*=\(prefix)\(segment)\(separator)"
        }
    }

    /// Returns `value` as a quoted-string, escaping `"` and `\\`.
    static func quoted(_ value: String) -> String {
        var output = "\""
        for character in value {
            if character == "\"" || character == "\\" { output += "\\" }
            output.append(character)
        }
        return output + "\""
    }

    /// Percent-encodes the UTF-8 of `value` (RFC 2231 section 7: attribute-char stays as it is)
    /// in segments that each end on a whole character.
    private static func percentEncodedSegments(_ value: String) -> [String] {
        let hexDigits = Array("0123456789ABCDEF")
        var segments: [String] = []
        var current = ""

        for character in value {
            var encoded = ""
            for byte in String(character).utf8 {
                if isAttributeCharacter(byte) {
                    encoded.append(Character(UnicodeScalar(byte)))
                } else {
                    encoded += "%" + String(hexDigits[Int(byte >> 4)]) + String(hexDigits[Int(byte & 0x0F)])
                }
            }
            if current.count + encoded.count > maxSegmentLength, !current.isEmpty {
                segments.append(current)
                current = ""
            }
            current += encoded
        }
        segments.append(current)
        return segments
    }

    /// RFC 2231 `attribute-char`: printable ASCII except space, `*`, `'`, `%` and tspecials.
    private static func isAttributeCharacter(_ byte: UInt8) -> Bool {
        guard byte > 0x20, byte < 0x7F else { return false }
        return !"*'%()<>@,;:\\\"/[]?=".utf8.contains(byte)
    }
}
