/// A cursor over one address's Unicode scalars that reads the RFC 5322 pieces: comments and
/// white space (CFWS), atoms, quoted strings, the local part, the domain.
struct AddressScanner {
    private let input: String
    private let scalars: [Unicode.Scalar]
    private var position = 0
    /// The comments skipped so far, in order, without their parentheses.
    private var comments: [String] = []

    init(_ input: String) {
        self.input = input
        self.scalars = Array(input.unicodeScalars)
    }

    private func error(_ reason: String) -> AddressError {
        AddressError(input: input, reason: reason)
    }

    private var current: Unicode.Scalar? {
        position < scalars.count ? scalars[position] : nil
    }

    // MARK: - Mailboxes and groups

    /// Reads `display-name ":" ... ";"` and returns the text between the colon and the
    /// semicolon, or `nil` when the input is not a group.
    mutating func parseGroupMembers() throws(AddressError) -> String? {
        _ = try parsePhrase()
        try skipComments()
        guard current == ":" else { return nil }
        position += 1

        let start = position
        guard let end = scalars[start...].lastIndex(of: ";") else {
            throw error("the group is not closed with ;")
        }
        position = end + 1
        try expectEnd()

        var members = String.UnicodeScalarView()
        members.append(contentsOf: scalars[start..<end])
        return String(members)
    }

    /// Reads `[display-name] "<" addr-spec ">"` or a bare `addr-spec` with optional comments.
    mutating func parseMailbox() throws(AddressError) -> Mailbox {
        let phraseStart = position
        let displayName = try parsePhrase()
        try skipComments()
        if let displayName, current != "@", displayName.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) {
            throw error("the display name contains a line break")
        }
        if let displayName, current != "@", displayName.unicodeScalars.contains(where: \.isHeaderControlCharacter) {
            throw error("the display name contains a control character")
        }

        if current == "<" {
            position += 1
            let address = try parseAddressSpecification()
            try skipComments()
            guard current == ">" else { throw error("the angle bracket after the address is not closed with >") }
            position += 1
            return Mailbox(displayName: displayName, address: address)
        }

        // Not a name-addr: read the same text again as a bare address.
        position = phraseStart
        let address = try parseAddressSpecification()
        comments.removeAll()
        try skipComments()
        let commentName = comments.last?.trimmingWhitespace()
        let name = (commentName?.isEmpty ?? true) ? nil : commentName
        if let name, name.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) {
            throw error("the display name contains a line break")
        }
        if let name, name.unicodeScalars.contains(where: \.isHeaderControlCharacter) {
            throw error("the display name contains a control character")
        }
        return Mailbox(displayName: name, address: address)
    }

    mutating func expectEnd() throws(AddressError) {
        try skipComments()
        guard position == scalars.count else {
            throw error("unexpected text after the address")
        }
    }

    // MARK: - Phrase

    /// Reads a display name: words (atoms and quoted strings, dots allowed as in common names
    /// such as `John Q. Public`) with the white space between them kept as written. Returns `nil`
    /// when there is no word before a `<`, `:` or the end.
    private mutating func parsePhrase() throws(AddressError) -> String? {
        var name = String.UnicodeScalarView()
        var pendingSpace = String.UnicodeScalarView()
        var hasWord = false

        while let scalar = current {
            if isWhitespace(scalar) {
                if hasWord { pendingSpace.append(scalar) }
                position += 1
            } else if scalar == "(" {
                try skipComment()
            } else if scalar == "\"" {
                name.append(contentsOf: pendingSpace)
                pendingSpace.removeAll()
                name.append(contentsOf: try readQuotedString().unicodeScalars)
                hasWord = true
            } else if isAtomText(scalar) || scalar == "." || scalar == "\r" || scalar == "\n" {
                name.append(contentsOf: pendingSpace)
                pendingSpace.removeAll()
                name.append(scalar)
                hasWord = true
                position += 1
            } else {
                break
            }
        }
        return hasWord && !name.isEmpty ? String(name) : nil
    }

    // MARK: - addr-spec

    /// Reads `local-part "@" domain` and returns it with the local part as written (quoted when
    /// it was quoted) and the domain as written.
    private mutating func parseAddressSpecification() throws(AddressError) -> String {
        try skipComments()
        let localPart = try parseLocalPart()
        try skipComments()

        guard current == "@" else {
            if current == nil || current == ">" || !scalars[position...].contains("@") { throw error("it has no @") }
            throw error("the local part contains a character that must be quoted")
        }
        guard !localPart.isEmpty else { throw error("nothing comes before the @") }
        position += 1

        try skipComments()
        let domain = try parseDomain()
        guard localPart.utf8.count <= 64 else { throw error("the local part is longer than 64 octets") }
        return localPart + "@" + domain
    }

    private mutating func parseLocalPart() throws(AddressError) -> String {
        if current == "\"" {
            let start = position
            let content = try readQuotedString(malformedReason: "the quoted local part is malformed")
            guard !content.unicodeScalars.contains(where: \.isHeaderControlCharacter) else {
                throw error("the quoted local part is malformed")
            }
            var text = String.UnicodeScalarView()
            text.append(contentsOf: scalars[start..<position])
            return String(text)
        }

        var text = String.UnicodeScalarView()
        var atomLength = 0
        while let scalar = current {
            if scalar == "." {
                guard atomLength > 0 else { throw error("the local part has an empty part between dots") }
                atomLength = 0
            } else if isAtomText(scalar) {
                atomLength += 1
            } else {
                break
            }
            text.append(scalar)
            position += 1
        }
        if !text.isEmpty, atomLength == 0 {
            throw error("the local part has an empty part between dots")
        }
        return String(text)
    }

    private mutating func parseDomain() throws(AddressError) -> String {
        if current == "[" {
            return try parseDomainLiteral()
        }

        var text = String.UnicodeScalarView()
        while let scalar = current, !isWhitespace(scalar), scalar != ">", scalar != "(", scalar != "," {
            text.append(scalar)
            position += 1
        }
        let domain = String(text)
        guard !domain.isEmpty else { throw error("the domain after the @ is missing") }

        let ascii = Punycode.asciiDomain(domain)
        guard ascii.utf8.count <= 255 else { throw error("the domain is longer than 255 octets") }
        for label in ascii.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63 else {
                throw error("the domain \"\(domain)\" has an empty or over-long label")
            }
            let isLetterDigitHyphen = label.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "-")
            }
            guard isLetterDigitHyphen, label.first != "-", label.last != "-" else {
                throw error("the domain \"\(domain)\" may contain only letters, digits, hyphens and dots")
            }
        }
        return domain
    }

    /// Reads `[...]`. The content must be RFC 5322 `dtext`: printable ASCII other than `[`, `]`
    /// and `\`, so that nothing in it can end the address in a header field or in RCPT TO.
    private mutating func parseDomainLiteral() throws(AddressError) -> String {
        let start = position
        position += 1
        while let scalar = current, scalar != "]" {
            guard scalar.value >= 33, scalar.value <= 126, scalar != "[", scalar != "\\" else {
                throw error(#"the address literal may contain only printable ASCII characters other than [, ] and \"#)
            }
            position += 1
        }
        guard current == "]", position > start + 1 else { throw error("the address literal is not closed with ]") }
        position += 1

        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars[start..<position])
        return String(text)
    }

    // MARK: - Lexical pieces

    /// Reads a quoted string and returns its content with quoted-pairs resolved.
    private mutating func readQuotedString(malformedReason: String = "a quote is not closed") throws(AddressError) -> String {
        position += 1
        var content = String.UnicodeScalarView()
        while let scalar = current {
            position += 1
            if scalar == "\"" { return String(content) }
            if scalar == "\\" {
                guard let escapedScalar = current else { break }
                content.append(escapedScalar)
                position += 1
            } else {
                content.append(scalar)
            }
        }
        throw error(malformedReason)
    }

    private mutating func skipComments() throws(AddressError) {
        while let scalar = current {
            if isWhitespace(scalar) {
                position += 1
            } else if scalar == "(" {
                try skipComment()
            } else {
                return
            }
        }
    }

    /// Skips a comment, which may nest (RFC 5322 section 3.2.2), and keeps its text.
    private mutating func skipComment() throws(AddressError) {
        var depth = 0
        var text = String.UnicodeScalarView()
        while let scalar = current {
            position += 1
            switch scalar {
            case "(":
                if depth > 0 { text.append(scalar) }
                depth += 1
            case ")":
                depth -= 1
                if depth == 0 {
                    comments.append(String(text))
                    return
                }
                text.append(scalar)
            case "\\":
                if let escapedScalar = current {
                    text.append(escapedScalar)
                    position += 1
                }
            default:
                text.append(scalar)
            }
        }
        throw error("a comment is not closed with )")
    }

    private func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t"
    }

    /// RFC 5322 `atext`, plus every non-ASCII character as RFC 6532 allows.
    private func isAtomText(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value >= 0x80 { return true }
        if scalar.value <= 0x20 || scalar.value == 0x7F { return false }
        return !"()<>[]:;@\\,.\"".unicodeScalars.contains(scalar)
    }
}
