/// Builds header fields from tokens, folding lines before 78 characters (RFC 5322 section
/// 2.1.1) by putting CRLF and a space between tokens.
enum HeaderFolding {
    static let maxLineLength = 78
    /// RFC 5322 section 2.1.1: no line may exceed 998 octets, CRLF excluded.
    static let maxLineOctets = 998

    /// Renders `Name: token token ...` with folds, ending in CRLF.
    static func field(_ name: String, tokens: [String]) -> String {
        var output = name + ":"
        var lineLength = output.utf8.count

        for token in tokens {
            let tokenLength = token.utf8.count
            if lineLength + 1 + tokenLength > maxLineLength, lineLength > name.utf8.count + 1 {
                output += "\r\n "
                lineLength = 1
            } else {
                output += " "
                lineLength += 1
            }
            output += token
            lineLength += tokenLength
        }
        return output + "\r\n"
    }

    /// Renders unstructured text (Subject, custom headers). Printable ASCII stays as written,
    /// folded at its spaces, with a long word on a line of its own (up to 998 octets), because
    /// structured values such as List-Unsubscribe URLs must not become encoded-words. Other text
    /// is written as encoded-words.
    ///
    /// With `foldsLongWords`, used for the Subject, a word that cannot fit a 78-character line is
    /// written as encoded-words instead, which fold. Readers decode them in unstructured text.
    static func unstructuredField(_ name: String, _ text: String, foldsLongWords: Bool = false) -> String {
        if foldsLongWords, EncodedWord.isPlainEnough(text), name.utf8.count + 2 + text.prefix(while: { $0 != " " }).utf8.count <= maxLineLength {
            return rawField(name, words: text.split(separator: " ", omittingEmptySubsequences: false).map(String.init))
        }
        if !foldsLongWords, EncodedWord.isPrintableASCII(text) {
            let words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            let firstLineFits = name.utf8.count + 2 + (words.first?.utf8.count ?? 0) <= maxLineOctets
            let laterLinesFit = words.dropFirst().allSatisfy { 1 + $0.utf8.count <= maxLineOctets }
            if firstLineFits && laterLinesFit {
                return rawField(name, words: words)
            }
        }
        let firstLineSpace = maxLineLength - name.utf8.count - 2
        return field(name, tokens: EncodedWord.encode(text, firstLineSpace: firstLineSpace))
    }

    /// Folds plain text only at its own spaces, so that unfolding gives back the exact text,
    /// runs of spaces included.
    private static func rawField(_ name: String, words: [String]) -> String {
        var output = name + ":"
        var lineLength = output.utf8.count
        var isFirst = true

        for word in words {
            let wordLength = word.utf8.count
            if !isFirst, lineLength + 1 + wordLength > maxLineLength, !word.isEmpty {
                output += "\r\n " + word
                lineLength = 1 + wordLength
            } else {
                output += " " + word
                lineLength += 1 + wordLength
            }
            isFirst = false
        }
        return output + "\r\n"
    }
}
