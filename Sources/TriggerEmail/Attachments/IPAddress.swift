import Foundation

/// An IPv4 or IPv6 address as a name resolver returns it, with the class of network it belongs
/// to, so that URLs reaching the service's own network can be rejected.
enum IPAddress: Equatable, CustomStringConvertible {
    case v4(UInt32)
    /// The 16 bytes in network order, and the zone (interface) of a link-local address, if any.
    case v6([UInt8], zone: String?)

    /// Networks that a URL from a mail document must not reach unless the operator allows it.
    enum RestrictedKind: String {
        case loopback
        case linkLocal = "link-local"
        case `private`
        case sharedCarrierGradeNAT = "carrier-grade NAT"
        case unspecified
        case multicast
        case reserved
    }

    /// The restricted network this address belongs to, or `nil` for a public address.
    var restrictedKind: RestrictedKind? {
        switch self {
        case .v4(let address):
            return Self.restrictedKind(ofIPv4: address)
        case .v6(let bytes, _):
            return Self.restrictedKind(ofIPv6: bytes)
        }
    }

    private static func restrictedKind(ofIPv4 address: UInt32) -> RestrictedKind? {
        func isIn(_ network: UInt32, prefixLength: UInt32) -> Bool {
            let mask: UInt32 = prefixLength == 0 ? 0 : ~UInt32(0) << (32 - prefixLength)
            return address & mask == network
        }

        if isIn(0x0000_0000, prefixLength: 8) { return .unspecified }  // 0.0.0.0/8, "this network"
        if isIn(0x7F00_0000, prefixLength: 8) { return .loopback }  // 127.0.0.0/8
        if isIn(0x0A00_0000, prefixLength: 8) { return .private }  // 10.0.0.0/8
        if isIn(0xAC10_0000, prefixLength: 12) { return .private }  // 172.16.0.0/12
        if isIn(0xC0A8_0000, prefixLength: 16) { return .private }  // 192.168.0.0/16
        if isIn(0xA9FE_0000, prefixLength: 16) { return .linkLocal }  // 169.254.0.0/16
        if isIn(0x6440_0000, prefixLength: 10) { return .sharedCarrierGradeNAT }  // 100.64.0.0/10
        if isIn(0xE000_0000, prefixLength: 4) { return .multicast }  // 224.0.0.0/4
        if isIn(0xF000_0000, prefixLength: 4) { return .reserved }  // 240.0.0.0/4 and the broadcast address
        return nil
    }

    private static func restrictedKind(ofIPv6 bytes: [UInt8]) -> RestrictedKind? {
        // An IPv4-mapped address (::ffff:a.b.c.d) reaches the IPv4 address it carries, and so
        // does one in the NAT64 prefix 64:ff9b::/96 on a network with a NAT64 gateway.
        let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]
        let nat64Prefix: [UInt8] = [0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0]
        if Array(bytes[0..<12]) == mappedPrefix || Array(bytes[0..<12]) == nat64Prefix {
            let embedded = bytes[12...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            return restrictedKind(ofIPv4: embedded)
        }

        if bytes.allSatisfy({ $0 == 0 }) { return .unspecified }  // ::
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return .loopback }  // ::1
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return .linkLocal }  // fe80::/10
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0xC0 { return .private }  // fec0::/10, the deprecated site-local range
        if bytes[0] & 0xFE == 0xFC { return .private }  // fc00::/7, unique local addresses
        if bytes[0] == 0xFF { return .multicast }  // ff00::/8
        return nil
    }

    /// The address in its usual text form, such as `10.0.0.5` or `fe80::1%eth0`.
    var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch self {
        case .v4(let address):
            var value = in_addr(s_addr: address.bigEndian)
            inet_ntop(AF_INET, &value, &buffer, socklen_t(buffer.count))
            return Self.string(fromNullTerminated: buffer)
        case .v6(let bytes, let zone):
            var value = in6_addr()
            withUnsafeMutableBytes(of: &value) { $0.copyBytes(from: bytes) }
            inet_ntop(AF_INET6, &value, &buffer, socklen_t(buffer.count))
            return Self.string(fromNullTerminated: buffer) + (zone.map { "%" + $0 } ?? "")
        }
    }

    private static func string(fromNullTerminated buffer: [CChar]) -> String {
        let length = buffer.firstIndex(of: 0) ?? buffer.count
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
