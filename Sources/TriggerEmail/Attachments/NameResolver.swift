import BlockingThreads
import Foundation

/// Resolves host names with the system resolver on blocking threads, never on Swift's
/// cooperative pool. `getaddrinfo` reads `/etc/hosts` and queries DNS as `/etc/nsswitch.conf` sets.
struct NameResolver: Sendable {
    enum Failure: Error, Equatable {
        /// The resolver's own message, such as "Name or service not known".
        case notResolved(String)
        case timedOut
    }

    var blockingThreads: BlockingThreadPool

    /// Returns every address `host` resolves to, each once. `host` may be a name or an IPv4 or IPv6
    /// literal, with or without brackets.
    func resolve(_ host: String, before deadline: ContinuousClock.Instant) async throws(Failure) -> [IPAddress] {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let blockingThreads = blockingThreads
        do {
            return try await awaitResult(
                of: { try await blockingThreads.run { try Self.getAddresses(bare) } },
                before: deadline)
        } catch let failure as Failure {
            throw failure
        } catch is TimeLimitExceeded {
            throw .timedOut
        } catch {
            throw .notResolved("\(error)")
        }
    }

    /// Calls `getaddrinfo`, which blocks until the resolver returns.
    private static func getAddresses(_ host: String) throws(Failure) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)

        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else {
            let message = status == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(status))
            throw .notResolved(message)
        }
        defer { freeaddrinfo(list) }

        var addresses: [IPAddress] = []
        var entry = list
        while let current = entry {
            if let address = ipAddress(of: current.pointee), !addresses.contains(address) {
                addresses.append(address)
            }
            entry = current.pointee.ai_next
        }
        return addresses
    }

    private static func ipAddress(of entry: addrinfo) -> IPAddress? {
        guard let socketAddress = entry.ai_addr else { return nil }

        switch entry.ai_family {
        case AF_INET:
            let address = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
            return .v4(UInt32(bigEndian: address.sin_addr.s_addr))
        case AF_INET6:
            let address = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
            let bytes = withUnsafeBytes(of: address.sin6_addr) { Array($0) }
            return .v6(bytes, zone: zoneName(address.sin6_scope_id))
        default:
            return nil
        }
    }

    private static func zoneName(_ scopeID: UInt32) -> String? {
        guard scopeID != 0 else { return nil }
        var name = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        guard if_indextoname(scopeID, &name) != nil else { return String(scopeID) }
        let length = name.firstIndex(of: 0) ?? name.count
        return String(decoding: name[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
