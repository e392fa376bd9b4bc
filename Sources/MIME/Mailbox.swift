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
        address[..<(address.lastIndex(of: "@") ?? address.endIndex)]
    }

    public var domain: Substring {
        guard let at = address.lastIndex(of: "@") else { return "" }
        return address[address.index(after: at)...]
    }

    /// The mailbox as a person would write it, unencoded: `Ана <ana@example.org>`.
    public var description: String {
        guard let displayName, !displayName.isEmpty else { return address }
        return "\(displayName) <\(address)>"
    }
}
