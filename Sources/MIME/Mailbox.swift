/// One address with an optional display name, as in RFC 5322's `mailbox`:
/// `Ана <ana@example.org>` or `ana@example.org`.
public struct Mailbox: Sendable, Hashable, CustomStringConvertible {
    public var displayName: String?
    /// The `addr-spec`, `local-part@domain`.
    public var address: String

    public init(displayName: String? = nil, address: String) {
        self.displayName = displayName
        self.address = address
    }

    public var localPart: Substring {
        address[..<(atSign ?? address.endIndex)]
    }

    public var domain: Substring {
        guard let at = atSign else { return "" }
        return address[address.index(after: at)...]
    }

    /// The position of the last `@`. Searched among Unicode scalars, because a search among
    /// Characters breaks the whole address into grapheme clusters, and every message needs it.
    private var atSign: String.Index? {
        address.unicodeScalars.lastIndex(of: "@")
    }

    /// Whether the local part has non-ASCII characters, which only a server offering SMTPUTF8
    /// (RFC 6531) can take.
    public var requiresSMTPUTF8: Bool {
        !localPart.unicodeScalars.allSatisfy(\.isASCII)
    }

    /// The address with an international domain in its ASCII form (`xn--` labels), which every
    /// server accepts. The local part stays as it is.
    public var asciiDomainAddress: String {
        guard !domain.unicodeScalars.allSatisfy(\.isASCII), !domain.hasPrefix("[") else { return address }
        return "\(localPart)@\(Punycode.asciiDomain(String(domain)))"
    }

    /// The mailbox as a person would write it, unencoded: `Ана <ana@example.org>`.
    public var description: String {
        guard let displayName, !displayName.isEmpty else { return address }
        return "\(displayName) <\(address)>"
    }
}
