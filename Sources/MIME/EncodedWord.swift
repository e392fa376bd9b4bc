/// RFC 2047 encoded-words (`=?UTF-8?B?...?=`) for header text that is not plain ASCII.
enum EncodedWord {
    static let prefix = "=?UTF-8?B?"
    static let suffix = "?="
    /// RFC 2047 section 2: an encoded-word is at most 75 characters long.
    static let maxLength = 75

    /// Encodes `text` as encoded-words. The first word fits in `firstLineSpace` characters when
    /// possible; each word carries whole UTF-8 characters, so no decoder receives half a character.
    static func encode(_ text: String, firstLineSpace: Int) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        var capacity = bytesFitting(in: firstLineSpace)

        for scalar in text.unicodeScalars {
            let encoded = Array(String(scalar).utf8)
            if chunk.count + encoded.count > capacity, !chunk.isEmpty {
                words.append(word(for: chunk))
                chunk.removeAll(keepingCapacity: true)
                capacity = bytesFitting(in: HeaderFolding.maxLineLength - 1)
            }
            chunk += encoded
        }
        if !chunk.isEmpty || words.isEmpty {
            words.append(word(for: chunk))
        }
        return words
    }

    /// Returns how many bytes one encoded-word can carry in `space` characters of line.
    private static func bytesFitting(in space: Int) -> Int {
        let room = min(space, maxLength) - prefix.count - suffix.count
        let base64Characters = max(room / 4 * 4, 8)
        return base64Characters / 4 * 3
    }

    private static func word(for bytes: [UInt8]) -> String {
        prefix + Base64.encode(bytes) + suffix
    }

    /// Returns whether header text can go as it is on a 78-character line: printable ASCII and spaces only, no token that
    /// looks like an encoded-word (which a reader would decode), and no word too long to fold.
    /// Returns whether header text can go as it is, at any length: printable ASCII, spaces and
    /// tabs, no `=?` that a reader would take for an encoded-word, and no leading white space,
    /// which readers drop.
    static func isPrintableASCII(_ text: String) -> Bool {
        guard text.unicodeScalars.allSatisfy({ ($0.value >= 0x20 && $0.value < 0x7F) || $0 == "\t" }) else {
            return false
        }
        return !text.contains("=?") && text.first != " " && text.first != "\t"
    }

    static func isPlainEnough(_ text: String) -> Bool {
        guard text.unicodeScalars.allSatisfy({ ($0.value >= 0x20 && $0.value < 0x7F) || $0 == "\t" }) else {
            return false
        }
        guard !text.contains("=?") else { return false }
        // Readers drop white space right after the colon, so text that starts with it is kept
        // inside an encoded-word instead.
        guard text.first != " ", text.first != "\t" else { return false }
        return text.split(whereSeparator: { $0 == " " || $0 == "\t" }).allSatisfy {
            $0.utf8.count <= HeaderFolding.maxLineLength - 1
        }
    }
}
