import Foundation
import MIME
import Testing

/// The DKIM-Signature field itself: its tags, its folding, and which header fields it covers.
@Suite("DKIM-Signature field")
struct DKIMSignatureFieldTests {
    static let algorithms: [DKIMAlgorithm] = [.rsaSHA256, .ed25519SHA256]
    static let plainMessage = MailMessage(
        from: Mailbox(displayName: "Shop", address: "shop@example.com"), to: [Mailbox(address: "ana@example.org")],
        subject: "Your order", text: "Hello Ana,\nyour order has shipped.\n")

    /// Returns the field up to and including "b=", which is what the signature covers.
    func unsignedPart(of field: String) -> String {
        guard let range = field.range(of: " b=", options: .backwards) ?? field.range(of: "\r\n b=", options: .backwards) else { return field }
        return String(field[..<range.upperBound])
    }

    @Test("field layout before the signature", arguments: algorithms)
    func layout(algorithm: DKIMAlgorithm) throws {
        let composed = dkimComposer.compose(Self.plainMessage)

        let signed = try makeDKIMSigner(algorithm).sign(composed.bytes, at: dkimSigningTime)

        // The SHA-256 of "Hello Ana,<CRLF>your order has shipped.<CRLF>", computed with
        // Python's hashlib.
        let bodyHash = "c+rXhcFrOFeK+KwWTZ+APtCUiIFdFJtnjCtHIlVbjtc="
        let aTag = "a=\(algorithm.rawValue);"
        let firstLine = "DKIM-Signature: v=1; \(aTag) c=relaxed/relaxed; d=example.com;"
        let expected =
            firstLine + "\r\n"
            + " s=mail2026; t=1796412101; h=from:subject:date:to:message-id:mime-version\r\n"
            + " :content-type:content-transfer-encoding:from;\r\n"
            + " bh=\(bodyHash); b="
        #expect(firstLine.count <= 78)
        #expect(unsignedPart(of: dkimSignatureField(of: signed)) == expected)
    }

    @Test("lines stay within 78 characters", arguments: algorithms)
    func lineLengths(algorithm: DKIMAlgorithm) throws {
        let composed = dkimComposer.compose(Self.plainMessage)

        let signed = try makeDKIMSigner(algorithm).sign(composed.bytes, at: dkimSigningTime)

        let lines = dkimSignatureField(of: signed).components(separatedBy: "\r\n")
        #expect(lines.count >= 4)
        #expect(lines.filter { $0.utf8.count > 78 } == [])
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix(" ") })
        // Every line but the last is full enough that the b= value was not split early.
        let signatureLines = lines.drop { !$0.contains(" b=") }.dropLast()
        #expect(signatureLines.allSatisfy { $0.utf8.count == 78 })
    }

    @Test("signature length matches the key", arguments: algorithms)
    func signatureLength(algorithm: DKIMAlgorithm) throws {
        let composed = dkimComposer.compose(Self.plainMessage)

        let signed = try makeDKIMSigner(algorithm).sign(composed.bytes, at: dkimSigningTime)

        let signature = try #require(Data(base64Encoded: dkimSignatureTags(of: signed)["b"] ?? ""))
        #expect(signature.count == (algorithm == .rsaSHA256 ? 256 : 64))
    }

    @Test("t= in whole seconds")
    func timestamp() throws {
        let composed = dkimComposer.compose(Self.plainMessage)

        let signed = try makeDKIMSigner(.ed25519SHA256).sign(composed.bytes, at: Date(timeIntervalSince1970: 1_796_412_101.987))

        #expect(dkimSignatureTags(of: signed)["t"] == "1796412101")
    }

    @Test("repeated fields listed per occurrence")
    func repeatedFields() async throws {
        let message = dkimWireBytes(
            """
            From: shop@example.com
            X-Tag: first
            To: ana@example.org
            X-Tag: second
            Subject: Tags

            Body

            """)
        let signer = try makeDKIMSigner(.ed25519SHA256, signedHeaderNames: ["FROM", "x-tag", "To", "X-TAG", "Cc"])

        let signed = try signer.sign(message, at: dkimSigningTime)

        // X-Tag is configured twice but counts once. Cc is absent, and Subject is not configured.
        #expect(dkimSignatureTags(of: signed)["h"] == "from:x-tag:x-tag:to:from")
        #expect(try await verifyWithDKIMPy(signed, key: try DKIMTestKey.key(for: .ed25519SHA256)) == DKIMVerification(isValid: true, error: nil))

        // Swapping the two X-Tag values changes which field each h= entry covers.
        let swapped = String(decoding: signed, as: UTF8.self)
            .replacingOccurrences(of: "X-Tag: first", with: "X-Tag: placeholder")
            .replacingOccurrences(of: "X-Tag: second", with: "X-Tag: first")
            .replacingOccurrences(of: "X-Tag: placeholder", with: "X-Tag: second")
        #expect(try await verifyWithDKIMPy(Array(swapped.utf8), key: try DKIMTestKey.key(for: .ed25519SHA256)).isValid == false)
    }

    @Test("two From fields signed")
    func twoFromFields() async throws {
        let message = dkimWireBytes(
            """
            From: shop@example.com
            From: sales@example.com
            Sender: shop@example.com
            Subject: Two authors

            Body

            """)

        let signed = try makeDKIMSigner(.rsaSHA256).sign(message, at: dkimSigningTime)

        #expect(dkimSignatureTags(of: signed)["h"] == "from:from:sender:subject:from")
        #expect(try await verifyWithDKIMPy(signed, key: try DKIMTestKey.key(for: .rsaSHA256)) == DKIMVerification(isValid: true, error: nil))
    }

    @Test("second signature goes above the first", arguments: algorithms)
    func signingTwice(algorithm: DKIMAlgorithm) async throws {
        let composed = dkimComposer.compose(Self.plainMessage)
        let other: DKIMAlgorithm = algorithm == .rsaSHA256 ? .ed25519SHA256 : .rsaSHA256

        let once = try makeDKIMSigner(other).sign(composed.bytes, at: dkimSigningTime)
        let twice = try makeDKIMSigner(algorithm).sign(once, at: dkimSigningTime)

        #expect(dkimSignatureTags(of: twice)["a"] == algorithm.rawValue)
        #expect(Array(twice.suffix(once.count)) == once)
        #expect(try await verifyWithDKIMPy(twice, key: try DKIMTestKey.key(for: algorithm)) == DKIMVerification(isValid: true, error: nil))
    }

    @Test("long domain and selector")
    func longNames() async throws {
        let domain = String(repeating: "d", count: 63) + "." + String(repeating: "e", count: 63) + ".example"
        let selector = "s2026-" + String(repeating: "s", count: 40)
        let key = try DKIMTestKey.key(for: .ed25519SHA256)
        let signer = try DKIMSigner(domain: domain, selector: selector, privateKeyPEM: key.privateKeyPEM)

        let signed = try signer.sign(dkimComposer.compose(Self.plainMessage).bytes, at: dkimSigningTime)

        // The d= tag cannot be folded, so its line is the only one allowed past 78 characters.
        let longLines = dkimSignatureField(of: signed).components(separatedBy: "\r\n").filter { $0.utf8.count > 78 }
        #expect(longLines == [" d=\(domain);"])
        #expect(try await verifyWithDKIMPy(signed, key: key, domain: domain, selector: selector) == DKIMVerification(isValid: true, error: nil))
    }

    @Test("d= and s= name the key record")
    func keyRecordName() async throws {
        let composed = dkimComposer.compose(Self.plainMessage)
        let key = try DKIMTestKey.key(for: .ed25519SHA256)

        let signed = try makeDKIMSigner(.ed25519SHA256).sign(composed.bytes, at: dkimSigningTime)

        #expect(dkimSignatureTags(of: signed)["d"] == dkimDomain)
        #expect(dkimSignatureTags(of: signed)["s"] == dkimSelector)
        let elsewhere = try await verifyWithDKIMPy(signed, key: key, domain: "example.net")
        #expect(!elsewhere.isValid)
        #expect(elsewhere.error?.contains("mail2026._domainkey.example.com.") == true)
    }
}
