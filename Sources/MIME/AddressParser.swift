/// Raised for text that is not an email address or a list of them.
public struct AddressError: Error, CustomStringConvertible, Equatable {
    public var input: String
    public var reason: String

    public var description: String { "Invalid email address \"\(input)\": \(reason)." }
}

/// Reads addresses the way mail documents write them: `ana@example.org`, `Ана <ana@example.org>`,
/// `"Doe, Jane" <jane@example.org>`, or several of those separated by commas.
///
/// Not yet: RFC 5322 comments, groups and non-ASCII addresses (SMTPUTF8). Such input is
/// rejected with an error instead of being sent wrongly.
public enum AddressParser {
    /// Parses a comma-separated list; commas inside quotes or angle brackets do not separate.
    public static func parseList(_ text: String) throws(AddressError) -> [Mailbox] {
        var mailboxes: [Mailbox] = []
        for item in try splitList(text) {
            mailboxes.append(try parseMailbox(item))
        }
        return mailboxes
    }

    /// Parses exactly one mailbox.
    public static func parseMailbox(_ input: String) throws(AddressError) -> Mailbox {
        let text = input.trimmingWhitespace()
        guard !text.isEmpty else { throw AddressError(input: input, reason: "it is empty") }

        guard text.last == ">", let open = lastUnquotedAngleBracket(in: text) else {
            try validateAddress(text, input: input)
            return Mailbox(address: text)
        }

        let address = String(text[text.index(after: open)..<text.index(before: text.endIndex)]).trimmingWhitespace()
        try validateAddress(address, input: input)

        var name = String(text[..<open]).trimmingWhitespace()
        if name.count >= 2, name.first == "\"", name.last == "\"" {
            name = unquote(String(name.dropFirst().dropLast()))
        } else if name.contains("\"") {
            throw AddressError(input: input, reason: "the display name has an unbalanced quote")
        }
        guard !name.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) else {
            throw AddressError(input: input, reason: "the display name contains a line break")
        }
        return Mailbox(displayName: name.isEmpty ? nil : name, address: address)
    }

    private static func splitList(_ text: String) throws(AddressError) -> [String] {
        var items: [String] = []
        var current = ""
        var inQuotes = false
        var inAngle = false
        var escaped = false

        for character in text {
            if escaped {
                current.append(character)
                escaped = false
                continue
            }
            switch character {
            case "\\" where inQuotes:
                escaped = true
                current.append(character)
            case "\"":
                inQuotes.toggle()
                current.append(character)
            case "<" where !inQuotes:
                inAngle = true
                current.append(character)
            case ">" where !inQuotes:
                inAngle = false
                current.append(character)
            case "," where !inQuotes && !inAngle:
                items.append(current)
                current = ""
            default:
                current.append(character)
            }
        }
        guard !inQuotes else { throw AddressError(input: text, reason: "a quote is not closed") }
        items.append(current)
        // Trimmed here so that an error quotes the item without the space after its comma.
        return items.map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
    }

    private static func lastUnquotedAngleBracket(in text: String) -> String.Index? {
        var inQuotes = false
        var escaped = false
        var found: String.Index?
        for index in text.indices {
            let character = text[index]
            if escaped {
                escaped = false
            } else if character == "\\" && inQuotes {
                escaped = true
            } else if character == "\"" {
                inQuotes.toggle()
            } else if character == "<" && !inQuotes {
                found = index
            }
        }
        return found
    }

    private static func unquote(_ text: String) -> String {
        var result = ""
        var escaped = false
        for character in text {
            if escaped {
                result.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// Checks an `addr-spec`: a dot-atom or quoted local part, `@`, and a domain of dot-separated
    /// labels of letters, digits and hyphens (or an address literal in brackets).
    static func validateAddress(_ address: String, input: String) throws(AddressError) {
        guard let at = address.lastIndex(of: "@") else {
            throw AddressError(input: input, reason: "it has no @")
        }
        let localPart = address[..<at]
        let domain = address[address.index(after: at)...]

        guard !localPart.isEmpty else { throw AddressError(input: input, reason: "nothing comes before the @") }
        guard !domain.isEmpty else { throw AddressError(input: input, reason: "the domain after the @ is missing") }
        guard address.unicodeScalars.allSatisfy(\.isASCII) else {
            throw AddressError(input: input, reason: "non-ASCII addresses are not supported yet; write the domain in Punycode (xn--...)")
        }
        guard localPart.utf8.count <= 64 else {
            throw AddressError(input: input, reason: "the local part is longer than 64 octets")
        }
        guard domain.utf8.count <= 255 else {
            throw AddressError(input: input, reason: "the domain is longer than 255 octets")
        }

        try validateLocalPart(localPart, input: input)
        try validateDomain(domain, input: input)
    }

    private static func validateLocalPart(_ localPart: Substring, input: String) throws(AddressError) {
        if localPart.first == "\"" {
            let isQuoted = localPart.count >= 2 && localPart.last == "\""
                && !localPart.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
            guard isQuoted else { throw AddressError(input: input, reason: "the quoted local part is malformed") }
            return
        }

        let atomSpecials = Set("()<>[]:;@\\,\" ")
        let labels = localPart.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty else {
                throw AddressError(input: input, reason: "the local part has an empty part between dots")
            }
            guard !label.contains(where: { atomSpecials.contains($0) || $0.asciiValue.map { $0 < 0x21 || $0 == 0x7F } ?? true }) else {
                throw AddressError(input: input, reason: "the local part contains a character that must be quoted")
            }
        }
    }

    private static func validateDomain(_ domain: Substring, input: String) throws(AddressError) {
        if domain.first == "[" {
            guard domain.last == "]", domain.count > 2 else {
                throw AddressError(input: input, reason: "the address literal is not closed with ]")
            }
            // RFC 5322 `dtext`: printable ASCII other than `[`, `]` and `\`. A space, CR or LF
            // here would end the address in a header field or in RCPT TO.
            let isValidLiteral = domain.dropFirst().dropLast().utf8.allSatisfy { byte in
                byte >= 33 && byte <= 126 && byte != UInt8(ascii: "[") && byte != UInt8(ascii: "]") && byte != UInt8(ascii: "\\")
            }
            guard isValidLiteral else {
                throw AddressError(input: input, reason: "the address literal may contain only printable ASCII characters other than [, ] and \\")
            }
            return
        }

        for label in domain.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63 else {
                throw AddressError(input: input, reason: "the domain \"\(domain)\" has an empty or over-long label")
            }
            let isValidLabel = label.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "-")
            }
            guard isValidLabel, label.first != "-", label.last != "-" else {
                throw AddressError(input: input, reason: "the domain \"\(domain)\" may contain only letters, digits, hyphens and dots")
            }
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[start...end])
    }
}
