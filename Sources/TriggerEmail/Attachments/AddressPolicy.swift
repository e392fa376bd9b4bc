import Foundation

/// The check that a URL's host may be fetched. Unless private addresses are allowed, every
/// address the host resolves to must be public. A mail document therefore cannot make the
/// service read from its own machine or network (server-side request forgery).
///
/// NOTE: URLSession resolves the name again when it connects. A DNS answer that changes between
/// this check and that connection (DNS rebinding) is therefore not caught. Closing the gap needs a
/// connection pinned to the checked address, which URLSession on Linux does not offer.
struct AddressPolicy: Sendable {
    var allowsPrivateAddresses: Bool
    var resolver: NameResolver
    /// Addresses let through although they are restricted. Only tests set it, so that they can
    /// fetch from their own server on 127.0.0.1 while the check stays on for every other address.
    var exemptAddresses: Set<String> = []

    /// Throws unless `host` may be fetched from. `isRedirect` picks the wording of the error.
    func check(host: String, isRedirect: Bool, before deadline: ContinuousClock.Instant) async throws(FetchFailure) {
        guard !allowsPrivateAddresses else { return }

        let verb = isRedirect ? "was redirected to" : "points to"
        let addresses: [IPAddress]
        do {
            addresses = try await resolver.resolve(host, before: deadline)
        } catch {
            switch error {
            case .timedOut:
                throw .timedOut
            case .notResolved(let message):
                throw .refused("\(verb) the host \(host), which cannot be resolved (\(message))")
            }
        }

        for address in addresses where !exemptAddresses.contains(address.description) {
            guard let kind = address.restrictedKind else { continue }

            let article = kind == .unspecified ? "an" : "a"
            let addressText = "\(article) \(kind.rawValue) address (\(address))"
            let target = Self.isLiteral(host) ? addressText : "the host \(host), which resolves to \(addressText)"
            throw .refused("\(verb) \(target); set ATTACHMENT_ALLOW_PRIVATE_ADDRESSES=true to allow it")
        }
    }

    /// Returns whether `host` is an IP address as written in a URL, rather than a name.
    private static func isLiteral(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var ipv4 = in_addr()
        var ipv6 = in6_addr()
        let withoutZone = bare.split(separator: "%", maxSplits: 1).first.map(String.init) ?? bare
        return inet_pton(AF_INET, bare, &ipv4) == 1 || inet_pton(AF_INET6, withoutZone, &ipv6) == 1
    }
}
