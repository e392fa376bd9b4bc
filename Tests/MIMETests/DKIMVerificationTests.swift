import Foundation
import MIME
import Testing

/// Messages composed by `MessageComposer`, signed by `DKIMSigner` and verified by dkimpy, an
/// independent implementation. Each message is signed with both algorithms.
@Suite("DKIM signatures verified by dkimpy")
struct DKIMVerificationTests {
    static let algorithms: [DKIMAlgorithm] = [.rsaSHA256, .ed25519SHA256]
    static let shop = Mailbox(displayName: "Shop", address: "shop@example.com")
    static let ana = Mailbox(displayName: "Ana", address: "ana@example.org")

    /// Composes `message`, signs it with `algorithm` and returns the signed bytes, after
    /// checking that dkimpy accepts them.
    func signAndVerify(_ message: MailMessage, _ algorithm: DKIMAlgorithm, sourceLocation: SourceLocation = #_sourceLocation) async throws
        -> [UInt8]
    {
        let composed = dkimComposer.compose(message)
        let signed = try makeDKIMSigner(algorithm).sign(composed.bytes, at: dkimSigningTime)

        let verification = try await verifyWithDKIMPy(signed, key: try DKIMTestKey.key(for: algorithm))
        #expect(verification == DKIMVerification(isValid: true, error: nil), sourceLocation: sourceLocation)
        #expect(dkimSignatureTags(of: signed)["a"] == algorithm.rawValue, sourceLocation: sourceLocation)
        #expect(Array(signed.suffix(composed.bytes.count)) == composed.bytes, sourceLocation: sourceLocation)
        return signed
    }

    @Test("plain text message", arguments: algorithms)
    func plainText(algorithm: DKIMAlgorithm) async throws {
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "Your order", text: "Hello Ana,\nyour order has shipped.\n")

        let signed = try await signAndVerify(message, algorithm)

        #expect(dkimSignatureTags(of: signed)["h"] == "from:subject:date:to:message-id:mime-version:content-type:content-transfer-encoding:from")
    }

    @Test("multipart text and HTML", arguments: algorithms)
    func multipartAlternative(algorithm: DKIMAlgorithm) async throws {
        let message = MailMessage(
            from: Self.shop, replyTo: [Mailbox(address: "help@example.com")], to: [Self.ana], cc: [Mailbox(address: "bob@example.net")],
            subject: "Order #1042 shipped", text: "Hi Ana,\nyour order shipped.", html: "<p>Hi Ana,</p>\n<p>your order shipped.</p>")

        let signed = try await signAndVerify(message, algorithm)

        #expect(String(decoding: signed, as: UTF8.self).contains("multipart/alternative"))
    }

    @Test("attachment in multipart/mixed", arguments: algorithms)
    func attachment(algorithm: DKIMAlgorithm) async throws {
        let invoice = MIME.Attachment(filename: "invoice.pdf", contentType: "application/pdf", content: Array(0...255) + Array(0...255))
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "Invoice", text: "Attached.", attachments: [invoice])

        let signed = try await signAndVerify(message, algorithm)

        #expect(String(decoding: signed, as: UTF8.self).contains("multipart/mixed"))
    }

    @Test("Cyrillic subject and names", arguments: algorithms)
    func cyrillic(algorithm: DKIMAlgorithm) async throws {
        let message = MailMessage(
            from: Mailbox(displayName: "Интернет-магазин", address: "shop@example.com"),
            to: [Mailbox(displayName: "Анна Каренина", address: "anna@example.org")],
            subject: "Ваш заказ №1042 отправлен и будет доставлен в течение трёх рабочих дней",
            text: "Здравствуйте, Анна!\nВаш заказ отправлен.")

        let signed = try await signAndVerify(message, algorithm)

        #expect(dkimHeaderSection(of: signed).contains("=?UTF-8?B?"))
    }

    @Test("lines longer than 998 octets", arguments: algorithms)
    func longLines(algorithm: DKIMAlgorithm) async throws {
        let longLine = String(repeating: "0123456789 ", count: 300)
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "Report", text: longLine + "\n" + longLine)

        let signed = try await signAndVerify(message, algorithm)

        #expect(signed.count > 6600)
    }

    @Test("trailing blank lines and spaces", arguments: algorithms)
    func trailingBlankLines(algorithm: DKIMAlgorithm) async throws {
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "Blank lines", text: "Line one   \n\tLine  two\t\n\n\n\n")

        _ = try await signAndVerify(message, algorithm)
    }

    @Test("empty body", arguments: algorithms)
    func emptyBody(algorithm: DKIMAlgorithm) async throws {
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "Nothing to say", text: "")

        let signed = try await signAndVerify(message, algorithm)

        // The relaxed form of an empty body is no octets at all, whose SHA-256 this is.
        #expect(dkimSignatureTags(of: signed)["bh"] == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
    }

    @Test("unsubscribe fields signed", arguments: algorithms)
    func listUnsubscribe(algorithm: DKIMAlgorithm) async throws {
        let message = MailMessage(
            from: Self.shop, to: [Self.ana], subject: "News", text: "This month's news.",
            extraHeaders: [
                HeaderField(name: "List-Unsubscribe", value: "<https://example.com/unsubscribe?id=42>"),
                HeaderField(name: "List-Unsubscribe-Post", value: "List-Unsubscribe=One-Click"),
                HeaderField(name: "X-Campaign", value: "december"),
            ])

        let signed = try await signAndVerify(message, algorithm)

        let signedNames = dkimSignatureTags(of: signed)["h"]?.split(separator: ":") ?? []
        #expect(signedNames.contains("list-unsubscribe"))
        #expect(signedNames.contains("list-unsubscribe-post"))
        #expect(!signedNames.contains("x-campaign"))
    }

    @Test("UTF-8 header fields", arguments: algorithms)
    func utf8HeaderFields(algorithm: DKIMAlgorithm) async throws {
        let message = dkimWireBytes(
            """
            From: Почта <почта@пример.рф>
            To: ана@example.org
            Subject: Привет
            Date: Fri, 04 Dec 2026 19:21:41 +0000
            Message-ID: <1@example.com>
            MIME-Version: 1.0
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: 8bit

            Здравствуйте!

            """)

        let signed = try makeDKIMSigner(algorithm).sign(message, at: dkimSigningTime)

        let verification = try await verifyWithDKIMPy(signed, key: try DKIMTestKey.key(for: algorithm))
        #expect(verification == DKIMVerification(isValid: true, error: nil))
    }

    // MARK: - Changes after signing

    @Test("From added after signing fails", arguments: algorithms)
    func addedFrom(algorithm: DKIMAlgorithm) async throws {
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "Your order", text: "Hello Ana.")
        let signed = try await signAndVerify(message, algorithm)

        // The extra "from" in h= covers the added field, which a verifier selects bottom-up
        // after the original one.
        let tampered = Array("From: Attacker <attacker@example.net>\r\n".utf8) + signed
        let verification = try await verifyWithDKIMPy(tampered, key: try DKIMTestKey.key(for: algorithm))

        #expect(!verification.isValid)
    }

    @Test("signed field added below fails", arguments: algorithms)
    func addedSubjectBelow(algorithm: DKIMAlgorithm) async throws {
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "Your order", text: "Hello Ana.")
        let signed = try await signAndVerify(message, algorithm)

        // A verifier takes the bottom-most Subject, which is now the added one.
        let text = String(decoding: signed, as: UTF8.self)
        let tampered = text.replacingOccurrences(of: "\r\n\r\n", with: "\r\nSubject: Your refund\r\n\r\n", options: [], range: text.range(of: "\r\n\r\n"))
        let verification = try await verifyWithDKIMPy(Array(tampered.utf8), key: try DKIMTestKey.key(for: algorithm))

        #expect(!verification.isValid)
    }

    @Test("unsigned field added still verifies", arguments: algorithms)
    func addedUnsignedField(algorithm: DKIMAlgorithm) async throws {
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "Your order", text: "Hello Ana.")
        let signed = try await signAndVerify(message, algorithm)

        // Relays add trace fields such as Received; a signature must survive them.
        let relayed = Array("Received: from relay.example.net by mx.example.org; Fri, 04 Dec 2026 19:21:42 +0000\r\n".utf8) + signed
        let verification = try await verifyWithDKIMPy(relayed, key: try DKIMTestKey.key(for: algorithm))

        #expect(verification == DKIMVerification(isValid: true, error: nil))
    }

    @Test("changed body fails", arguments: algorithms)
    func changedBody(algorithm: DKIMAlgorithm) async throws {
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "Your order", text: "Please pay 10 EUR.")
        let signed = try await signAndVerify(message, algorithm)

        let tampered = String(decoding: signed, as: UTF8.self).replacingOccurrences(of: "10 EUR", with: "90 EUR")
        let verification = try await verifyWithDKIMPy(Array(tampered.utf8), key: try DKIMTestKey.key(for: algorithm))

        #expect(!verification.isValid)
        #expect(verification.error?.contains("body hash mismatch") == true)
    }

    @Test("changed signed header fails", arguments: algorithms)
    func changedSubject(algorithm: DKIMAlgorithm) async throws {
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "Your order", text: "Hello Ana.")
        let signed = try await signAndVerify(message, algorithm)

        let tampered = String(decoding: signed, as: UTF8.self).replacingOccurrences(of: "Subject: Your order", with: "Subject: Your refund")
        let verification = try await verifyWithDKIMPy(Array(tampered.utf8), key: try DKIMTestKey.key(for: algorithm))

        #expect(!verification.isValid)
    }

    @Test("whitespace changes still verify", arguments: algorithms)
    func relaxedChanges(algorithm: DKIMAlgorithm) async throws {
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "Your order", text: "Hello Ana,\nyour order has shipped.")
        let signed = try await signAndVerify(message, algorithm)

        // Relaxed canonicalization ignores these changes that relays are known to make.
        let changed = String(decoding: signed, as: UTF8.self)
            .replacingOccurrences(of: "Subject: Your order", with: "subject:\tYour\r\n   order  ")
            .replacingOccurrences(of: "Hello Ana,", with: "Hello   Ana,\t")
            .appending("\r\n\r\n")
        let verification = try await verifyWithDKIMPy(Array(changed.utf8), key: try DKIMTestKey.key(for: algorithm))

        #expect(verification == DKIMVerification(isValid: true, error: nil))
    }

    @Test("another key does not verify", arguments: algorithms)
    func wrongKey(algorithm: DKIMAlgorithm) async throws {
        let message = MailMessage(from: Self.shop, to: [Self.ana], subject: "Your order", text: "Hello Ana.")
        let signed = try await signAndVerify(message, algorithm)

        let otherKey = try DKIMTestKey.generate(algorithm == .rsaSHA256 ? ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"] : ["-algorithm", "ED25519"])
        let verification = try await verifyWithDKIMPy(signed, key: otherKey)

        #expect(!verification.isValid)
    }

    @Test("traditional RSA PEM signs like PKCS#8")
    func traditionalRSAKey() async throws {
        let key = try DKIMTestKey.key(for: .rsaSHA256)
        let traditional = try DKIMTestKey.runOpenSSL(["pkey", "-traditional"], input: key.privateKeyPEM)
        #expect(traditional.hasPrefix("-----BEGIN RSA PRIVATE KEY-----"))

        let signer = try DKIMSigner(domain: dkimDomain, selector: dkimSelector, privateKeyPEM: traditional)
        let composed = dkimComposer.compose(MailMessage(from: Self.shop, to: [Self.ana], subject: "Your order", text: "Hello Ana."))
        let signed = try signer.sign(composed.bytes, at: dkimSigningTime)
        let pkcs8Signed = try makeDKIMSigner(.rsaSHA256).sign(composed.bytes, at: dkimSigningTime)

        #expect(signer.algorithm == .rsaSHA256)
        // RSA PKCS#1 v1.5 signatures are deterministic, so the same key gives the same bytes.
        #expect(signed == pkcs8Signed)
        #expect(try await verifyWithDKIMPy(signed, key: key) == DKIMVerification(isValid: true, error: nil))
    }

    @Test("concurrent signing with one signer", arguments: algorithms)
    func concurrentSigning(algorithm: DKIMAlgorithm) async throws {
        let signer = try makeDKIMSigner(algorithm)
        let composed = dkimComposer.compose(MailMessage(from: Self.shop, to: [Self.ana], subject: "Your order", text: "Hello Ana."))
        let expected = try signer.sign(composed.bytes, at: dkimSigningTime)

        let results = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<32 {
                group.addTask { try signer.sign(composed.bytes, at: dkimSigningTime) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }

        // Both algorithms are deterministic, so every task must produce the same signature.
        #expect(results.count == 32)
        #expect(results.allSatisfy { $0 == expected })
    }
}
