/// Raised for text that is not an email address or a list of them.
public struct AddressError: Error, CustomStringConvertible, Equatable {
    public var input: String
    public var reason: String

    public var description: String { "Invalid email address \"\(input)\": \(reason)." }
}

/// Reads addresses as RFC 5322 section 3.4 writes them, with the UTF-8 of RFC 6532:
/// `ana@example.org`, `Ана <ana@example.org>`, `"Doe, Jane" <jane@example.org>`,
/// `ana@example.org (Ana Lima)`, groups such as `Team: a@example.org, b@example.org;`, and lists
/// of those separated by commas. Comments are skipped, except that a comment after a bare
/// address becomes its display name when it has no other.
public enum AddressParser {
    /// Parses a comma-separated list; a group contributes its members.
    public static func parseList(_ text: String) throws(AddressError) -> [Mailbox] {
        var mailboxes: [Mailbox] = []
        for item in try splitTopLevel(text, at: ",") {
            let trimmed = item.trimmingWhitespace()
            guard !trimmed.isEmpty else { continue }
            mailboxes += try parseAddress(trimmed)
        }
        return mailboxes
    }

    /// Parses exactly one mailbox; a group is not a mailbox.
    public static func parseMailbox(_ input: String) throws(AddressError) -> Mailbox {
        let text = input.trimmingWhitespace()
        guard !text.isEmpty else { throw AddressError(input: input, reason: "it is empty") }

        var scanner = AddressScanner(text)
        let mailbox = try scanner.parseMailbox()
        try scanner.expectEnd()
        return mailbox
    }

    /// Parses one address: a mailbox, or a group whose members are returned.
    private static func parseAddress(_ text: String) throws(AddressError) -> [Mailbox] {
        var scanner = AddressScanner(text)
        if let members = try scanner.parseGroupMembers() {
            var mailboxes: [Mailbox] = []
            for member in try splitTopLevel(members, at: ",") {
                let trimmed = member.trimmingWhitespace()
                guard !trimmed.isEmpty else { continue }
                mailboxes.append(try parseMailbox(trimmed))
            }
            return mailboxes
        }

        scanner = AddressScanner(text)
        let mailbox = try scanner.parseMailbox()
        try scanner.expectEnd()
        return [mailbox]
    }

    /// Splits at `separator` where it is not inside quotes, a comment, angle brackets, an
    /// address literal or (for commas) a group.
    static func splitTopLevel(_ text: String, at separator: Character) throws(AddressError) -> [String] {
        var items: [String] = []
        var current = ""
        var inQuotes = false
        var commentDepth = 0
        var inAngle = false
        var inLiteral = false
        var inGroup = false
        var escaped = false

        for character in text {
            if escaped {
                current.append(character)
                escaped = false
                continue
            }
            switch character {
            case "\\" where inQuotes || commentDepth > 0:
                escaped = true
            case "\"" where commentDepth == 0:
                inQuotes.toggle()
            case "(" where !inQuotes:
                commentDepth += 1
            case ")" where !inQuotes && commentDepth > 0:
                commentDepth -= 1
            case "<" where !inQuotes && commentDepth == 0:
                inAngle = true
            case ">" where !inQuotes && commentDepth == 0:
                inAngle = false
            case "[" where !inQuotes && commentDepth == 0:
                inLiteral = true
            case "]" where !inQuotes && commentDepth == 0:
                inLiteral = false
            case ":" where !inQuotes && commentDepth == 0 && !inAngle && !inLiteral && separator == ",":
                inGroup = true
            case ";" where !inQuotes && commentDepth == 0 && !inAngle && !inLiteral && separator == ",":
                inGroup = false
            default:
                break
            }

            let isSeparator = character == separator && !escaped && !inQuotes && commentDepth == 0 && !inAngle
                && !inLiteral && !inGroup
            if isSeparator {
                items.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        guard !inQuotes else { throw AddressError(input: text, reason: "a quote is not closed") }
        guard commentDepth == 0 else { throw AddressError(input: text, reason: "a comment is not closed with )") }
        items.append(current)
        return items
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
