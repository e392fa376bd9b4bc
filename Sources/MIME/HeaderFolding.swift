/// Builds header fields from tokens, folding lines before 78 characters (RFC 5322 section
/// 2.1.1) by putting CRLF and a space between tokens.
enum HeaderFolding {
    static let maxLineLength = 78

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

    /// Renders unstructured text (Subject, custom headers), encoding it as encoded-words when it
    /// is not plain ASCII.
    static func unstructuredField(_ name: String, _ text: String) -> String {
        // The first word cannot move to a continuation line, so it must fit after "Name: ".
        let firstWordLength = text.prefix { $0 != " " }.utf8.count
        if EncodedWord.isPlainEnough(text), name.utf8.count + 2 + firstWordLength <= maxLineLength {
            let words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            return rawField(name, words: words)
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
