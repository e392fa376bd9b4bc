import DocumentStore
import Foundation
import SMTP
import TestSupport
import Testing
import TriggerEmail

@Suite("Delivery to a real SMTP server")
struct SMTPDeliveryTests {
    @Test("Cyrillic message to to, cc and bcc arrives exactly")
    func cyrillicMessageArrivesExactly() async throws {
        let server = try await SMTPTestServer.start()
        let harness = try await DeliveryHarness.sending(to: server)

        let text = "Здравствуйте, Анна!\n.Строка с точкой в начале\n..и с двумя\nFrom here on, plain ASCII.\n"
        let html = "<p>Здравствуйте, <b>Анна</b>!</p>\n.<i>точка</i>\n"
        let id = try await harness.add([
            "to": "Анна Иванова <anna@example.org>",
            "cc": ["boris@example.org"],
            "bcc": "secret@example.org",
            "from": "Магазин <shop@example.com>",
            "message": ["subject": "Ваш заказ №1042 подтверждён", "text": .string(text), "html": .string(html)],
        ])

        let fields = try await harness.waitForState(id)
        let delivery = try #require(fields["delivery"])
        #expect(delivery[path: "state"] == "SUCCESS")
        #expect(delivery[path: "attempts"] == 1)
        #expect(delivery[path: "error"] == .null)
        #expect(delivery[path: "leaseExpireTime"] == .null)
        #expect(delivery[path: "endTime"]?.stringValue != nil)
        #expect(delivery[path: "info.accepted"]?.strings == ["anna@example.org", "boris@example.org", "secret@example.org"])
        #expect(delivery[path: "info.rejected"]?.strings == [])
        #expect(delivery[path: "info.pending"]?.strings == [])
        #expect(delivery[path: "info.response"]?.stringValue?.hasPrefix("250") == true)

        let received = try #require(try await server.waitForMessages(1).first)
        #expect(received[path: "rcpt_tos"]?.strings == ["anna@example.org", "boris@example.org", "secret@example.org"])
        #expect(received[path: "mail_from"] == "shop@example.com")
        #expect(received[path: "parsed.subject"] == "Ваш заказ №1042 подтверждён")
        #expect(received[path: "parsed.from"] == "Магазин <shop@example.com>")
        #expect(received[path: "parsed.to"] == "Анна Иванова <anna@example.org>")
        #expect(received[path: "parsed.cc"] == "boris@example.org")
        #expect(received[path: "parsed.bcc"] == .null)
        #expect(received[path: "parsed.message_id"] == delivery[path: "info.messageId"])
        #expect(received[path: "parsed.content_type"] == "multipart/alternative")
        #expect(received[path: "parsed.defects"]?.arrayValue?.isEmpty == true)
        #expect(received[path: "raw_text"]?.stringValue?.lowercased().contains("bcc") == false)
        #expect((received[path: "max_line_length"]?.numberValue ?? 999) <= 998)
        #expect(received[path: "bare_line_feeds"] == 0)

        let parts = try #require(received[path: "parsed.parts"]?.arrayValue)
        #expect(parts.count == 2)
        #expect(parts.first?[path: "content_type"] == "text/plain")
        #expect(parts.first?[path: "content"]?.stringValue == text.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(parts.last?[path: "content_type"] == "text/html")
        #expect(parts.last?[path: "content"]?.stringValue == html.replacingOccurrences(of: "\n", with: "\r\n"))

        await harness.stop()
    }

    @Test("One rejected recipient still delivers to the others")
    func partialRejectionSucceeds() async throws {
        let server = try await SMTPTestServer.start(.init(rejectRecipients: ["nobody"], deferRecipients: ["later"]))
        let harness = try await DeliveryHarness.sending(to: server)

        let id = try await harness.add([
            "to": ["ok@example.org", "nobody@example.org", "later@example.org"],
            "from": "shop@example.com",
            "message": ["subject": "Split", "text": "Hello"],
        ])

        let delivery = try #require(try await harness.waitForState(id)["delivery"])
        #expect(delivery[path: "state"] == "SUCCESS")
        #expect(delivery[path: "info.accepted"]?.strings == ["ok@example.org"])
        #expect(delivery[path: "info.rejected"]?.strings == ["nobody@example.org"])
        #expect(delivery[path: "info.pending"]?.strings == ["later@example.org"])

        let received = try await server.waitForMessages(1)
        #expect(received.first?[path: "rcpt_tos"]?.strings == ["ok@example.org"])
        await harness.stop()
    }

    @Test("All recipients rejected ends in ERROR quoting the replies")
    func allRecipientsRejectedFails() async throws {
        let server = try await SMTPTestServer.start(.init(rejectRecipients: ["nobody"]))
        let harness = try await DeliveryHarness.sending(to: server)

        let id = try await harness.add([
            "to": ["nobody1@example.org", "nobody2@example.org"],
            "from": "shop@example.com",
            "message": ["subject": "Nobody", "text": "Hello"],
        ])

        let delivery = try #require(try await harness.waitForState(id)["delivery"])
        #expect(delivery[path: "state"] == "ERROR")
        let error = try #require(delivery[path: "error"]?.stringValue)
        #expect(error.hasPrefix("No recipient was accepted by 127.0.0.1:\(server.port): "))
        #expect(error.contains("RCPT TO <nobody1@example.org>: 550 5.1.1 <nobody1@example.org>: Recipient address rejected: User unknown"))
        #expect(error.contains("RCPT TO <nobody2@example.org>: 550 5.1.1"))
        #expect(try server.receivedMessages().isEmpty)
        await harness.stop()
    }

    @Test("STARTTLS with AUTH delivers over TLS")
    func startTLSWithAuthentication() async throws {
        let server = try await SMTPTestServer.start(.init(tls: .starttls, users: ["mailer:s3cret"], requireAuthentication: true))
        let harness = try await DeliveryHarness.sending(to: server, credentials: Credentials(user: "mailer", password: "s3cret"))

        let id = try await harness.add(["to": "a@example.org", "from": "shop@example.com", "message": ["subject": "TLS", "text": "Hi"]])

        let delivery = try #require(try await harness.waitForState(id)["delivery"])
        #expect(delivery[path: "state"] == "SUCCESS")
        let received = try #require(try await server.waitForMessages(1).first)
        #expect(received[path: "tls"] == true)
        #expect(received[path: "auth_user"] == "mailer")
        #expect(server.log.contains("AUTH PLAIN accepted for user 'mailer'"))
        #expect(harness.logs.records.allSatisfy { !"\($0.metadata)".contains("s3cret") })
        await harness.stop()
    }

    @Test("SMTPS with AUTH delivers over TLS")
    func implicitTLSWithAuthentication() async throws {
        let server = try await SMTPTestServer.start(.init(tls: .smtps, users: ["mailer:s3cret"], requireAuthentication: true))
        let harness = try await DeliveryHarness.sending(
            to: server, security: .implicitTLS, credentials: Credentials(user: "mailer", password: "s3cret"))

        let id = try await harness.add(["to": "a@example.org", "from": "shop@example.com", "message": ["subject": "TLS", "text": "Hi"]])

        let delivery = try #require(try await harness.waitForState(id)["delivery"])
        #expect(delivery[path: "state"] == "SUCCESS")
        let received = try #require(try await server.waitForMessages(1).first)
        #expect(received[path: "tls"] == true)
        #expect(received[path: "auth_user"] == "mailer")
        await harness.stop()
    }

    @Test("AUTH LOGIN when the server offers only LOGIN")
    func loginMechanism() async throws {
        let server = try await SMTPTestServer.start(
            .init(tls: .starttls, users: ["mailer:s3cret"], requireAuthentication: true, authMechanisms: ["LOGIN"]))
        let harness = try await DeliveryHarness.sending(to: server, credentials: Credentials(user: "mailer", password: "s3cret"))

        let id = try await harness.add(["to": "a@example.org", "from": "shop@example.com", "message": ["subject": "LOGIN", "text": "Hi"]])

        #expect(try await harness.waitForState(id)["delivery"]?[path: "state"] == "SUCCESS")
        #expect(try await server.waitForMessages(1).first?[path: "auth_user"] == "mailer")
        #expect(server.log.contains("AUTH LOGIN accepted for user 'mailer'"))
        await harness.stop()
    }

    @Test("AUTH LOGIN with a wrong password quotes the 535 reply")
    func loginMechanismWrongPassword() async throws {
        let server = try await SMTPTestServer.start(
            .init(tls: .starttls, users: ["mailer:s3cret"], requireAuthentication: true, authMechanisms: ["LOGIN"]))
        let harness = try await DeliveryHarness.sending(to: server, credentials: Credentials(user: "mailer", password: "wrong"))

        let id = try await harness.add(["to": "a@example.org", "from": "shop@example.com", "message": ["subject": "LOGIN", "text": "Hi"]])

        let delivery = try #require(try await harness.waitForState(id)["delivery"])
        #expect(delivery[path: "error"] == .string("AUTH LOGIN rejected by 127.0.0.1:\(server.port): 535 5.7.8 Authentication credentials invalid (check the user in SMTP_CONNECTION_URI and SMTP_PASSWORD)."))
        await harness.stop()
    }

    @Test("Slow data reply times out")
    func dataTimeout() async throws {
        let server = try await SMTPTestServer.start(.init(dataDelay: 10))
        var configuration = SMTPServerConfiguration(host: "127.0.0.1", port: server.port, security: .startTLSWhenOffered)
        configuration.timeouts.data = .seconds(1)
        let harness = try await DeliveryHarness(transport: { [configuration] logger in
            SMTPTransport(client: try SMTPClient(configuration: configuration, maxConnections: 1, logger: logger))
        })

        let id = try await harness.add(["to": "a@example.org", "from": "shop@example.com", "message": ["subject": "Slow", "text": "Hi"]])

        let delivery = try #require(try await harness.waitForState(id)["delivery"])
        #expect(delivery[path: "state"] == "ERROR")
        #expect(delivery[path: "error"] == .string(
            "message data failed at 127.0.0.1:\(server.port): timed out waiting for the reply to the message data. The message may have been delivered, so it was not sent again; check the recipient's mailbox before retrying."))
        await harness.stop()
    }

    @Test("requireTLS refuses a server without STARTTLS")
    func requireTLSWithoutSTARTTLS() async throws {
        let server = try await SMTPTestServer.start()
        var configuration = SMTPServerConfiguration(host: "127.0.0.1", port: server.port, security: .startTLSWhenOffered)
        configuration.startTLS = .required
        let harness = try await DeliveryHarness(transport: { [configuration] logger in
            SMTPTransport(client: try SMTPClient(configuration: configuration, maxConnections: 1, logger: logger))
        })

        let id = try await harness.add(["to": "a@example.org", "from": "shop@example.com", "message": ["subject": "x", "text": "y"]])

        let delivery = try #require(try await harness.waitForState(id)["delivery"])
        #expect(delivery[path: "error"] == .string(
            "STARTTLS failed at 127.0.0.1:\(server.port): the server does not offer STARTTLS and requireTLS is set, so nothing was sent in clear text; use smtps:// or a server that offers STARTTLS."))
        #expect(try server.receivedMessages().isEmpty)
        await harness.stop()
    }

    @Test("ignoreTLS stays in clear text")
    func ignoreTLS() async throws {
        let server = try await SMTPTestServer.start(.init(tls: .starttls))
        var configuration = SMTPServerConfiguration(host: "127.0.0.1", port: server.port, security: .startTLSWhenOffered)
        configuration.startTLS = .never
        let harness = try await DeliveryHarness(transport: { [configuration] logger in
            SMTPTransport(client: try SMTPClient(configuration: configuration, maxConnections: 1, logger: logger))
        })

        let id = try await harness.add(["to": "a@example.org", "from": "shop@example.com", "message": ["subject": "x", "text": "y"]])

        #expect(try await harness.waitForState(id)["delivery"]?[path: "state"] == "SUCCESS")
        #expect(try await server.waitForMessages(1).first?[path: "tls"] == false)
        await harness.stop()
    }

    @Test("Wrong password ends in ERROR quoting the 535 reply")
    func wrongPasswordFails() async throws {
        let server = try await SMTPTestServer.start(.init(tls: .starttls, users: ["mailer:s3cret"], requireAuthentication: true))
        let harness = try await DeliveryHarness.sending(to: server, credentials: Credentials(user: "mailer", password: "wrong"))

        let id = try await harness.add(["to": "a@example.org", "from": "shop@example.com", "message": ["subject": "TLS", "text": "Hi"]])

        let delivery = try #require(try await harness.waitForState(id)["delivery"])
        #expect(delivery[path: "state"] == "ERROR")
        let error = try #require(delivery[path: "error"]?.stringValue)
        #expect(error == "AUTH PLAIN <redacted> rejected by 127.0.0.1:\(server.port): 535 5.7.8 Authentication credentials invalid (check the user in SMTP_CONNECTION_URI and SMTP_PASSWORD).")
        #expect(!error.contains("wrong"))
        await harness.stop()
    }

    @Test("Certificate from an unknown CA ends in ERROR")
    func untrustedCertificateFails() async throws {
        let server = try await SMTPTestServer.start(.init(tls: .smtps))
        let harness = try await DeliveryHarness.sending(to: server, security: .implicitTLS, tls: TLSConfiguration())

        let id = try await harness.add(["to": "a@example.org", "from": "shop@example.com", "message": ["subject": "TLS", "text": "Hi"]])

        let delivery = try #require(try await harness.waitForState(id)["delivery"])
        #expect(delivery[path: "state"] == "ERROR")
        #expect(delivery[path: "error"]?.stringValue?.hasPrefix("TLS handshake failed at 127.0.0.1:\(server.port): the server's certificate was not accepted: ") == true)
        #expect(try server.receivedMessages().isEmpty)
        await harness.stop()
    }

    @Test("rejectUnauthorized false accepts an unknown CA")
    func unverifiedTLSDelivers() async throws {
        let server = try await SMTPTestServer.start(.init(tls: .smtps))
        let harness = try await DeliveryHarness.sending(to: server, security: .implicitTLS, tls: TLSConfiguration(verifiesCertificate: false))

        let id = try await harness.add(["to": "a@example.org", "from": "shop@example.com", "message": ["subject": "TLS", "text": "Hi"]])

        #expect(try await harness.waitForState(id)["delivery"]?[path: "state"] == "SUCCESS")
        await harness.stop()
    }

    @Test("No server listening ends in ERROR, then a started server delivers")
    func refusedConnectionThenRecovery() async throws {
        let port = try TestEnvironment.unusedLoopbackPort()
        let configuration = SMTPServerConfiguration(host: "127.0.0.1", port: port, security: .startTLSWhenOffered)
        let harness = try await DeliveryHarness(transport: { logger in
            SMTPTransport(client: try SMTPClient(configuration: configuration, maxConnections: 1, logger: logger))
        })

        let first = try await harness.add(["to": "a@example.org", "from": "shop@example.com", "message": ["subject": "1", "text": "Hi"]])
        let failed = try #require(try await harness.waitForState(first)["delivery"])
        #expect(failed[path: "state"] == "ERROR")
        #expect(failed[path: "error"] == .string("connect failed at 127.0.0.1:\(port): Connection refused."))

        let server = try await SMTPTestServer.start(.init(port: port))
        let second = try await harness.add(["to": "a@example.org", "from": "shop@example.com", "message": ["subject": "2", "text": "Hi"]])
        #expect(try await harness.waitForState(second)["delivery"]?[path: "state"] == "SUCCESS")
        #expect(try await server.waitForMessages(1).first?[path: "parsed.subject"] == "2")
        await harness.stop()
    }
}

@Suite("International addresses over SMTP")
struct InternationalDeliveryTests {
    @Test("UTF-8 address goes with SMTPUTF8")
    func smtpUTF8Delivery() async throws {
        let server = try await SMTPTestServer.start(.init(offersSMTPUTF8: true))
        let harness = try await DeliveryHarness.sending(to: server)

        let id = try await harness.add(["to": "Аня <аня@пример.рф>", "from": "shop@example.com", "message": ["subject": "Привет", "text": "Текст"]])

        let delivery = try #require(try await harness.waitForState(id)["delivery"])
        #expect(delivery[path: "state"] == "SUCCESS")
        let received = try #require(try await server.waitForMessages(1).first)
        #expect(received[path: "rcpt_tos"]?.strings == ["аня@пример.рф"])
        let options = try #require(received[path: "mail_options"]?.strings)
        #expect(options.count == 3)
        #expect(options.first?.hasPrefix("SIZE=") == true)
        #expect(Array(options.dropFirst()) == ["SMTPUTF8", "BODY=8BITMIME"])
        await harness.stop()
    }

    @Test("UTF-8 address without server support ends in ERROR")
    func smtpUTF8Missing() async throws {
        let server = try await SMTPTestServer.start()
        let harness = try await DeliveryHarness.sending(to: server)

        let id = try await harness.add(["to": "аня@пример.рф", "from": "shop@example.com", "message": ["subject": "x", "text": "y"]])

        let delivery = try #require(try await harness.waitForState(id)["delivery"])
        #expect(delivery[path: "state"] == "ERROR")
        #expect(delivery[path: "error"] == .string(
            "MAIL FROM failed at 127.0.0.1:\(server.port): an address has non-ASCII characters before the @, and the server does not offer SMTPUTF8; use an ASCII address or a server that supports SMTPUTF8."))
        #expect(try server.receivedMessages().isEmpty)
        await harness.stop()
    }

    @Test("International domain goes as Punycode")
    func punycodeDomain() async throws {
        let server = try await SMTPTestServer.start()
        let harness = try await DeliveryHarness.sending(to: server)

        let id = try await harness.add(["to": "Müller <info@bücher.de>", "from": "shop@example.com", "message": ["subject": "x", "text": "y"]])

        #expect(try await harness.waitForState(id)["delivery"]?[path: "state"] == "SUCCESS")
        let received = try #require(try await server.waitForMessages(1).first)
        #expect(received[path: "rcpt_tos"]?.strings == ["info@xn--bcher-kva.de"])
        #expect(received[path: "parsed.to"] == "Müller <info@xn--bcher-kva.de>")
        await harness.stop()
    }
}
