/// The `DKIM-Signature` header field, folded so that its lines stay within 78 characters
/// wherever the tag syntax of RFC 6376 section 3.5 allows a fold.
///
/// The signature covers this field itself, with an empty `b=` value (RFC 6376 section 3.7), so
/// the field is built in two steps. `unsigned` is the field up to and including `b=`, exactly
/// as it will appear. `signed(with:)` appends the signature, folding only between its base64
/// characters. A verifier that empties the `b=` value therefore gets `unsigned` back.
struct DKIMSignatureField {
    static let name = "DKIM-Signature"

    /// The field through `b=`, without a CRLF: what the signature covers.
    let unsigned: String
    private let folder: LineFolder

    init(algorithm: DKIMAlgorithm, domain: String, selector: String, timestamp: Int64, signedHeaderNames: [String], bodyHash: String) {
        var folder = LineFolder(fieldName: Self.name)
        folder.appendWord("v=1;")
        folder.appendWord("a=\(algorithm.rawValue);")
        folder.appendWord("c=relaxed/relaxed;")
        folder.appendWord("d=\(domain);")
        folder.appendWord("s=\(selector);")
        folder.appendWord("t=\(timestamp);")

        // The h= list may fold before any colon, with no space needed where it does not fold.
        for (index, headerName) in signedHeaderNames.enumerated() {
            let isLast = index == signedHeaderNames.count - 1
            let piece = (index == 0 ? "h=" : ":") + headerName + (isLast ? ";" : "")
            if index == 0 {
                folder.appendWord(piece)
            } else {
                folder.appendPiece(piece)
            }
        }

        // The body hash is kept whole because it always fits on a line of its own. At least
        // one signature character must fit after "b=", so that no fold follows it directly.
        folder.appendWord("bh=\(bodyHash);")
        folder.appendWord("b=", reservingSpace: 1)

        self.unsigned = folder.text
        self.folder = folder
    }

    /// Returns the whole field with the base64 `signature` as the `b=` value, ending in CRLF.
    func signed(with signature: String) -> String {
        var folder = self.folder
        for character in signature {
            folder.appendPiece(String(character))
        }
        return folder.text + "\r\n"
    }
}

/// Writes a header field line by line, starting a continuation line (CRLF and a space) before
/// a piece that would pass 78 characters. A piece longer than a line stays whole, so a very
/// long domain can still make a longer line.
private struct LineFolder {
    private(set) var text: String
    private var lineLength: Int

    init(fieldName: String) {
        text = fieldName + ":"
        lineLength = text.utf8.count
    }

    /// Appends `word` after a space, or at the start of a new line when the word and
    /// `reservingSpace` more characters would not fit.
    mutating func appendWord(_ word: String, reservingSpace reserved: Int = 0) {
        if lineLength + 1 + word.utf8.count + reserved > HeaderFolding.maxLineLength, lineLength > 1 {
            text += "\r\n " + word
            lineLength = 1 + word.utf8.count
        } else {
            text += " " + word
            lineLength += 1 + word.utf8.count
        }
    }

    /// Appends `piece` directly, or at the start of a new line when it would not fit. Only for
    /// places where the syntax allows folding white space without requiring a space.
    mutating func appendPiece(_ piece: String) {
        if lineLength + piece.utf8.count > HeaderFolding.maxLineLength, lineLength > 1 {
            text += "\r\n "
            lineLength = 1
        }
        text += piece
        lineLength += piece.utf8.count
    }
}
