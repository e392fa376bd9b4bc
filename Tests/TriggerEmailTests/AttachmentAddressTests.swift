import BlockingThreads
import Foundation
import Testing

@testable import TriggerEmail

/// The private-address check on its own: literal addresses resolved by `getaddrinfo`, which
/// answers them without asking DNS, and the classification of the results.
@Suite("Attachment address classification")
struct AttachmentAddressTests {
    static let threads = BlockingThreadPool(name: "address-tests", threadCount: 1)
    let resolver = NameResolver(blockingThreads: Self.threads)

    func resolve(_ host: String) async throws -> [IPAddress] {
        // Literal addresses resolve at once; the long deadline only guards a loaded test machine.
        try await resolver.resolve(host, before: .now + .seconds(120))
    }

    @Test("Literal addresses resolve to themselves")
    func literals() async throws {
        #expect(try await resolve("10.0.0.5") == [.v4(0x0A00_0005)])
        #expect(try await resolve("::1") == [.v6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], zone: nil)])
        #expect(try await resolve("[2001:db8::1]").map(\.description) == ["2001:db8::1"])
        #expect(try await resolve("fe80::1%lo").map(\.description) == ["fe80::1%lo"])
    }

    @Test("Restricted kinds")
    func restrictedKinds() async throws {
        let cases: [(host: String, kind: IPAddress.RestrictedKind?)] = [
            ("0.1.2.3", .unspecified),
            ("127.255.255.255", .loopback),
            ("10.255.255.255", .private),
            ("172.16.0.0", .private),
            ("192.168.255.255", .private),
            ("169.254.0.1", .linkLocal),
            ("100.64.0.0", .sharedCarrierGradeNAT),
            ("239.255.255.255", .multicast),
            ("240.0.0.1", .reserved),
            ("::", .unspecified),
            ("::1", .loopback),
            ("febf::1", .linkLocal),
            ("fec0::1", .private),
            ("fdff::1", .private),
            ("ff05::2", .multicast),
            ("::ffff:192.168.0.1", .private),
            ("::ffff:8.8.8.8", nil),
            ("64:ff9b::a9fe:a9fe", .linkLocal),
            ("8.8.8.8", nil),
            ("9.255.255.255", nil),
            ("11.0.0.0", nil),
            ("100.63.255.255", nil),
            ("100.128.0.0", nil),
            ("172.15.255.255", nil),
            ("172.32.0.0", nil),
            ("192.167.255.255", nil),
            ("192.169.0.0", nil),
            ("223.255.255.255", nil),
            ("2001:db8::1", nil),
            ("2606:4700::1111", nil),
            ("fbff::1", nil),
            ("fe00::1", nil),
        ]
        for (host, kind) in cases {
            let addresses = try await resolve(host)
            #expect(addresses.count == 1, "\(host)")
            #expect(addresses.first?.restrictedKind == kind, "\(host)")
        }
    }

    @Test("Private addresses allowed by the setting")
    func allowedBySetting() async throws {
        let policy = AddressPolicy(allowsPrivateAddresses: true, resolver: resolver)

        await #expect(throws: Never.self) {
            try await policy.check(host: "10.0.0.5", isRedirect: false, before: .now + .seconds(120))
        }
    }

    @Test("Public address passes the check")
    func publicAddress() async throws {
        let policy = AddressPolicy(allowsPrivateAddresses: false, resolver: resolver)

        await #expect(throws: Never.self) {
            try await policy.check(host: "203.0.113.7", isRedirect: false, before: .now + .seconds(120))
        }
    }

    @Test("Resolution past the deadline")
    func deadlinePassed() async {
        let policy = AddressPolicy(allowsPrivateAddresses: false, resolver: resolver)

        await #expect(throws: FetchFailure.timedOut) {
            try await policy.check(host: "10.0.0.5", isRedirect: false, before: .now - .seconds(1))
        }
    }

    @Test("Time limit ends a wait on blocked work")
    func timeLimitOnBlockedWork() async {
        let threads = BlockingThreadPool(name: "time-limit-test", threadCount: 1)
        let release = DispatchSemaphore(value: 0)
        defer {
            release.signal()
            threads.shutDown()
        }

        // The work never finishes on its own, so returning at all shows the limit ended the wait.
        await #expect(throws: TimeLimitExceeded.self) {
            try await awaitResult(of: { try await threads.run { release.wait() } }, before: .now + .milliseconds(200))
        }
    }
}
