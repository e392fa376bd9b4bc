import DocumentStore
import Foundation
import MIME
import TestSupport
import Testing

@testable import TriggerEmail

/// Fetching attachments over HTTP from `http_test_server.py` on 127.0.0.1. No test connects to
/// any other address: URLs with other addresses are rejected before a connection is made.
@Suite("Attachment HTTP fetching")
struct AttachmentHTTPTests {
    /// A generous fetch limit: these tests are about what is fetched, and a loaded test machine
    /// can take longer than the default 30 seconds for a chain of requests.
    let allowingPrivate = AttachmentLoader(settings: AttachmentSettings(fetchTimeout: .seconds(300), allowPrivateAddresses: true))
    /// The default address check with the same generous fetch limit.
    let rejectingPrivate = AttachmentLoader(settings: AttachmentSettings(fetchTimeout: .seconds(300)))

    @Test("Fetches a file by path URL")
    func fetchesFile() async throws {
        let server = try await AttachmentHTTPServer.start()
        try server.serve("report.pdf", Array("%PDF-1.7".utf8))

        let attachments = try await allowingPrivate.load([["path": .string(server.url("/report.pdf"))]])

        let attachment = try #require(attachments.first)
        #expect(attachment.content == Array("%PDF-1.7".utf8))
        #expect(attachment.filename == "report.pdf")
        #expect(attachment.contentType == "application/pdf")
    }

    @Test("File name from the URL path")
    func fileNameFromURL() async throws {
        let server = try await AttachmentHTTPServer.start()
        try server.serve("q1 report.csv", Array("a,b\n".utf8))

        let attachments = try await allowingPrivate.load([["href": .string(server.url("/q1%20report.csv?token=secret"))]])

        let attachment = try #require(attachments.first)
        #expect(attachment.filename == "q1 report.csv")
        #expect(attachment.contentType == "text/csv; charset=utf-8")
        #expect(attachment.content == Array("a,b\n".utf8))
    }

    @Test("Loopback URL rejected by default")
    func loopbackRejected() async throws {
        let server = try await AttachmentHTTPServer.start()
        try server.serve("report.pdf", Array("%PDF".utf8))

        let message = await loadingError(rejectingPrivate, [["path": .string(server.url("/report.pdf"))]])

        #expect(message == "message.attachments[0] (report.pdf) points to a loopback address (127.0.0.1); set ATTACHMENT_ALLOW_PRIVATE_ADDRESSES=true to allow it.")
        #expect(server.requests == [])
    }

    @Test("Restricted addresses rejected before connecting")
    func restrictedAddresses() async {
        let cases: [(host: String, expected: String)] = [
            ("10.0.0.5", "points to a private address (10.0.0.5)"),
            ("172.16.0.1", "points to a private address (172.16.0.1)"),
            ("172.31.255.255", "points to a private address (172.31.255.255)"),
            ("192.168.1.1", "points to a private address (192.168.1.1)"),
            ("127.0.0.2", "points to a loopback address (127.0.0.2)"),
            ("169.254.169.254", "points to a link-local address (169.254.169.254)"),
            ("100.64.0.1", "points to a carrier-grade NAT address (100.64.0.1)"),
            ("100.127.255.254", "points to a carrier-grade NAT address (100.127.255.254)"),
            ("0.0.0.0", "points to an unspecified address (0.0.0.0)"),
            ("224.0.0.1", "points to a multicast address (224.0.0.1)"),
            ("255.255.255.255", "points to a reserved address (255.255.255.255)"),
            ("[::1]", "points to a loopback address (::1)"),
            ("[::]", "points to an unspecified address (::)"),
            ("[fe80::1]", "points to a link-local address (fe80::1)"),
            ("[fc00::1]", "points to a private address (fc00::1)"),
            ("[fd12:3456::1]", "points to a private address (fd12:3456::1)"),
            ("[ff02::1]", "points to a multicast address (ff02::1)"),
            ("[::ffff:10.0.0.5]", "points to a private address (::ffff:10.0.0.5)"),
            ("[64:ff9b::7f00:1]", "points to a loopback address (64:ff9b::7f00:1)"),
            ("127.1", "points to the host 127.1, which resolves to a loopback address (127.0.0.1)"),
            ("0x7f000001", "points to the host 0x7f000001, which resolves to a loopback address (127.0.0.1)"),
        ]
        for (host, expected) in cases {
            let message = await loadingError(rejectingPrivate, [["filename": "a.pdf", "href": .string("http://\(host)/a.pdf")]])
            #expect(message == "message.attachments[0] (a.pdf) \(expected); set ATTACHMENT_ALLOW_PRIVATE_ADDRESSES=true to allow it.")
        }
    }

    @Test("Redirects are followed")
    func redirects() async throws {
        let server = try await AttachmentHTTPServer.start()
        try server.serve("a.txt", Array("redirected".utf8))

        let relative = try await allowingPrivate.load([["filename": "a.txt", "path": .string(server.url("/redirect?to=/a.txt&status=301"))]])
        #expect(relative.first?.content == Array("redirected".utf8))

        let absolute = try await allowingPrivate.load([["filename": "a.txt", "path": .string(server.url("/redirect?to=\(server.url("/a.txt"))&status=307"))]])
        #expect(absolute.first?.content == Array("redirected".utf8))
    }

    @Test("Five redirects are followed")
    func fiveRedirects() async throws {
        let server = try await AttachmentHTTPServer.start()

        let attachments = try await allowingPrivate.load([["filename": "end.txt", "path": .string(server.url("/chain/5"))]])

        #expect(attachments.first?.content == Array("end of chain".utf8))
        #expect(server.requests.count == 6)
    }

    @Test("Sixth redirect rejected")
    func sixthRedirect() async throws {
        let server = try await AttachmentHTTPServer.start()

        let message = await loadingError(allowingPrivate, [["filename": "end.txt", "path": .string(server.url("/chain/6"))]])

        #expect(message == "message.attachments[0] (end.txt) was redirected more than 5 times.")
        #expect(server.requests.count == 6)
    }

    @Test("Redirect to a private address rejected")
    func redirectToPrivate() async throws {
        let server = try await AttachmentHTTPServer.start()
        let loader = loaderExemptingTestServer()
        try server.serve("a.txt", Array("reachable".utf8))

        let direct = try await loader.load([["path": .string(server.url("/a.txt"))]])
        #expect(direct.first?.content == Array("reachable".utf8))

        let toPrivate = await loadingError(loader, [["filename": "a.txt", "path": .string(server.url("/redirect?to=http://10.0.0.5/a.txt"))]])
        #expect(toPrivate == "message.attachments[0] (a.txt) was redirected to a private address (10.0.0.5); set ATTACHMENT_ALLOW_PRIVATE_ADDRESSES=true to allow it.")

        let toLoopback = await loadingError(loader, [["filename": "a.txt", "path": .string(server.url("/redirect?to=http://[::1]:\(server.port)/a.txt"))]])
        #expect(toLoopback == "message.attachments[0] (a.txt) was redirected to a loopback address (::1); set ATTACHMENT_ALLOW_PRIVATE_ADDRESSES=true to allow it.")

        let toNumericHost = await loadingError(loader, [["filename": "a.txt", "path": .string(server.url("/redirect?to=http://127.2:\(server.port)/a.txt"))]])
        #expect(toNumericHost == "message.attachments[0] (a.txt) was redirected to the host 127.2, which resolves to a loopback address (127.0.0.2); set ATTACHMENT_ALLOW_PRIVATE_ADDRESSES=true to allow it.")

        #expect(server.requests == ["GET /a.txt", "GET /redirect?to=http://10.0.0.5/a.txt", "GET /redirect?to=http://%5B::1%5D:\(server.port)/a.txt", "GET /redirect?to=http://127.2:\(server.port)/a.txt"])
    }

    @Test("Redirect to another scheme rejected")
    func redirectToOtherScheme() async throws {
        let server = try await AttachmentHTTPServer.start()

        let toFile = await loadingError(allowingPrivate, [["filename": "a.txt", "path": .string(server.url("/redirect?to=file:///etc/passwd"))]])
        #expect(toFile == "message.attachments[0] (a.txt) was redirected to a URL with the unsupported scheme \"file\"; only http and https URLs are followed.")

        let toData = await loadingError(allowingPrivate, [["filename": "a.txt", "path": .string(server.url("/redirect?to=data:,x"))]])
        #expect(toData == "message.attachments[0] (a.txt) was redirected to a URL with the unsupported scheme \"data\"; only http and https URLs are followed.")
    }

    @Test("Endless body cut off at the limit")
    func endlessBody() async throws {
        let server = try await AttachmentHTTPServer.start()
        let loader = AttachmentLoader(settings: AttachmentSettings(maxBytes: 100_000, fetchTimeout: .seconds(300), allowPrivateAddresses: true))

        let started = ContinuousClock.now
        let message = await loadingError(loader, [["filename": "big.bin", "path": .string(server.url("/endless"))]])

        #expect(message == "message.attachments[0] (big.bin) is larger than the 100000-byte limit set by ATTACHMENT_MAX_BYTES.")
        // The body never ends, so only the size limit can have ended the fetch this early.
        #expect(ContinuousClock.now - started < .seconds(300))
    }

    @Test("Declared length over the limit")
    func declaredLength() async throws {
        let server = try await AttachmentHTTPServer.start()
        let loader = AttachmentLoader(settings: AttachmentSettings(maxBytes: 1000, allowPrivateAddresses: true))

        let over = await loadingError(loader, [["filename": "big.bin", "path": .string(server.url("/declared-length?bytes=1001"))]])
        #expect(over == "message.attachments[0] (big.bin) is larger than the 1000-byte limit set by ATTACHMENT_MAX_BYTES.")

        let exact = try await loader.load([["filename": "big.bin", "path": .string(server.url("/declared-length?bytes=1000"))]])
        #expect(exact.first?.content == [UInt8](repeating: 0, count: 1000))
    }

    @Test("Fetched bytes count toward the total")
    func totalWhileFetching() async throws {
        let server = try await AttachmentHTTPServer.start()
        let loader = AttachmentLoader(settings: AttachmentSettings(maxBytes: 100_000, maxTotalBytes: 150_000, allowPrivateAddresses: true))
        let attachments: JSONValue = [
            ["filename": "first.bin", "path": .string(server.url("/declared-length?bytes=100000"))],
            ["filename": "second.bin", "path": .string(server.url("/endless"))],
        ]

        let message = await loadingError(loader, attachments)

        #expect(message == "message.attachments[1] (second.bin) brings the attachments past the 150000-byte limit for one message set by ATTACHMENT_MAX_TOTAL_BYTES.")
    }

    @Test("Slow response times out")
    func slowResponse() async throws {
        let server = try await AttachmentHTTPServer.start()
        let loader = AttachmentLoader(settings: AttachmentSettings(fetchTimeout: .seconds(1), allowPrivateAddresses: true))

        let started = ContinuousClock.now
        let message = await loadingError(loader, [["filename": "late.txt", "path": .string(server.url("/slow?seconds=600"))]])

        let elapsed = ContinuousClock.now - started
        #expect(message == "message.attachments[0] (late.txt) could not be fetched within the 1-second limit set by ATTACHMENT_FETCH_TIMEOUT_SECONDS.")
        #expect(elapsed >= .milliseconds(900))
        // Far below the server's 600-second delay, with room for a loaded test machine.
        #expect(elapsed < .seconds(300))
    }

    @Test("Trickling body times out")
    func tricklingBody() async throws {
        let server = try await AttachmentHTTPServer.start()
        let loader = AttachmentLoader(settings: AttachmentSettings(fetchTimeout: .milliseconds(1500), allowPrivateAddresses: true))

        let started = ContinuousClock.now
        let message = await loadingError(loader, [["filename": "drip.bin", "path": .string(server.url("/trickle"))]])

        let elapsed = ContinuousClock.now - started
        #expect(message == "message.attachments[0] (drip.bin) could not be fetched within the 1.5-second limit set by ATTACHMENT_FETCH_TIMEOUT_SECONDS.")
        #expect(elapsed >= .milliseconds(1400))
        // The body would go on for 10 minutes, and every byte resets the idle timeout.
        #expect(elapsed < .seconds(300))
    }

    @Test("Error status")
    func errorStatus() async throws {
        let server = try await AttachmentHTTPServer.start()

        let message = await loadingError(allowingPrivate, [["filename": "gone.pdf", "path": .string(server.url("/status/404"))]])

        #expect(message == "message.attachments[0] (gone.pdf) could not be fetched: 127.0.0.1:\(server.port) returned HTTP 404.")
    }

    @Test("Redirect without Location")
    func redirectWithoutLocation() async throws {
        let server = try await AttachmentHTTPServer.start()

        let message = await loadingError(allowingPrivate, [["filename": "a.pdf", "path": .string(server.url("/status/302"))]])

        #expect(message == "message.attachments[0] (a.pdf) could not be fetched: 127.0.0.1:\(server.port) returned HTTP 302 without a valid Location header field.")
    }

    @Test("Connection refused")
    func connectionRefused() async throws {
        let port = try TestEnvironment.unusedLoopbackPort()

        let message = await loadingError(allowingPrivate, [["filename": "a.pdf", "path": .string("http://127.0.0.1:\(port)/a.pdf")]])

        #expect(message == "message.attachments[0] (a.pdf) could not be fetched from 127.0.0.1:\(port): the connection failed.")
    }

    /// FoundationNetworking on Linux rejects IPv6 literal hosts. When this test fails, that
    /// limitation is gone and the NOTE in HTTPDownload.swift can go with it.
    @Test("IPv6 literal URL not accepted")
    func ipv6Literal() async throws {
        let port = try TestEnvironment.unusedLoopbackPort()

        let message = await loadingError(allowingPrivate, [["filename": "a.pdf", "path": .string("http://[::1]:\(port)/a.pdf")]])

        #expect(message == "message.attachments[0] (a.pdf) could not be fetched from [::1]:\(port): FoundationNetworking does not accept this URL.")
    }
}
