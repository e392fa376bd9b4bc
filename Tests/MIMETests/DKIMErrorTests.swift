import Foundation
import MIME
import Testing

/// Every error the DKIM signer raises, with its exact description.
@Suite("DKIM errors")
struct DKIMErrorTests {
    static let unreadableKeyReason = "Cannot read the DKIM private key as a PEM private key (PKCS#8 or traditional RSA)"

    /// Returns the error that making a signer with these arguments raises.
    func initError(
        domain: String = dkimDomain, selector: String = dkimSelector, privateKeyPEM: String? = nil,
        signedHeaderNames: [String] = DKIMSigner.defaultSignedHeaders
    ) throws -> DKIMError? {
        let pem = try privateKeyPEM ?? DKIMTestKey.key(for: .ed25519SHA256).privateKeyPEM
        do {
            _ = try DKIMSigner(domain: domain, selector: selector, privateKeyPEM: pem, signedHeaderNames: signedHeaderNames)
            return nil
        } catch {
            return error
        }
    }

    /// Returns the error that signing `message` raises.
    func signError(_ message: [UInt8]) throws -> DKIMError? {
        let signer = try makeDKIMSigner(.ed25519SHA256)
        do {
            _ = try signer.sign(message, at: dkimSigningTime)
            return nil
        } catch {
            return error
        }
    }

    /// Returns the private key that `openssl genpkey` makes with `options`.
    func generatedKey(_ options: [String], passphrase: String? = nil) throws -> String {
        try DKIMTestKey.generate(options, passphrase: passphrase).privateKeyPEM
    }

    // MARK: - Keys

    @Test("text that is not PEM")
    func notPEM() throws {
        let error = try #require(try initError(privateKeyPEM: "not a key"))

        #expect(error.reason == Self.unreadableKeyReason)
        #expect(error.openSSLFunction == "PEM_read_bio_PrivateKey")
        let openSSLMessage = try #require(error.openSSLMessage)
        #expect(openSSLMessage.hasPrefix("error:"))
        #expect(error.description == "\(Self.unreadableKeyReason): PEM_read_bio_PrivateKey failed: \(openSSLMessage).")
    }

    @Test("PEM with a damaged body")
    func damagedPEM() throws {
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI!!!!\n-----END PRIVATE KEY-----\n"

        let error = try #require(try initError(privateKeyPEM: pem))

        #expect(error.reason == Self.unreadableKeyReason)
        #expect(error.openSSLFunction == "PEM_read_bio_PrivateKey")
        #expect(error.openSSLMessage?.hasPrefix("error:") == true)
    }

    @Test("public key instead of private key")
    func publicKey() throws {
        let key = try DKIMTestKey.key(for: .ed25519SHA256)
        let publicPEM = try String(contentsOfFile: key.publicKeyPath, encoding: .utf8)

        let error = try #require(try initError(privateKeyPEM: publicPEM))

        #expect(error.reason == Self.unreadableKeyReason)
        #expect(error.openSSLFunction == "PEM_read_bio_PrivateKey")
    }

    @Test("encrypted PKCS#8 keys", arguments: [
        ["-algorithm", "ED25519"],
        ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
    ])
    func encryptedKey(options: [String]) throws {
        let pem = try generatedKey(options, passphrase: "secret")
        #expect(pem.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))

        let error = try #require(try initError(privateKeyPEM: pem))

        #expect(
            error.description
                == "The DKIM private key is encrypted with a passphrase, so decrypt it first, for example with `openssl pkey -in KEY -out KEY.pem`.")
        #expect(error.openSSLFunction == nil)
    }

    @Test("encrypted traditional RSA key")
    func encryptedTraditionalKey() throws {
        let pem = try DKIMTestKey.runOpenSSL(
            ["pkey", "-traditional", "-aes128", "-passout", "pass:secret"], input: try DKIMTestKey.key(for: .rsaSHA256).privateKeyPEM)
        #expect(pem.contains("Proc-Type: 4,ENCRYPTED"))

        let error = try #require(try initError(privateKeyPEM: pem))

        #expect(error.reason.hasPrefix("The DKIM private key is encrypted with a passphrase"))
    }

    @Test("unsupported key types", arguments: [
        (["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], "EC"),
        (["-algorithm", "ED448"], "ED448"),
        (["-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048"], "RSA-PSS"),
    ])
    func unsupportedKeyType(options: [String], typeName: String) throws {
        let error = try #require(try initError(privateKeyPEM: try generatedKey(options)))

        #expect(
            error.description
                == "The DKIM private key is of type \(typeName), but DKIM signing supports only RSA (rsa-sha256) and Ed25519 (ed25519-sha256) keys.")
    }

    @Test("RSA key under 1024 bits")
    func shortRSAKey() throws {
        let error = try #require(try initError(privateKeyPEM: try generatedKey(["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:768"])))

        #expect(error.description == "The DKIM private key is a 768-bit RSA key, but DKIM requires at least 1024 bits (RFC 8301), so generate a 2048-bit key.")
    }

    @Test("1024-bit RSA key accepted")
    func minimumRSAKey() throws {
        let pem = try generatedKey(["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"])

        let signer = try DKIMSigner(domain: dkimDomain, selector: dkimSelector, privateKeyPEM: pem)

        #expect(signer.algorithm == .rsaSHA256)
    }

    // MARK: - Domain, selector and header names

    static let labelRule = "must consist of ASCII letters, digits and hyphens and must not start or end with a hyphen"

    @Test("invalid domains", arguments: [
        ("", "The DKIM domain \"\" is invalid: it is empty."),
        ("example", "The DKIM domain \"example\" is invalid: a signing domain has at least two labels, such as example.com."),
        ("mail_out.example.com", "The DKIM domain \"mail_out.example.com\" is invalid: the label \"mail_out\" \(labelRule)."),
        ("exa mple.com", "The DKIM domain \"exa mple.com\" is invalid: the label \"exa mple\" \(labelRule)."),
        ("-example.com", "The DKIM domain \"-example.com\" is invalid: the label \"-example\" \(labelRule)."),
        ("example-.com", "The DKIM domain \"example-.com\" is invalid: the label \"example-\" \(labelRule)."),
        (
            "пример.рф",
            "The DKIM domain \"пример.рф\" is invalid: the label \"пример\" \(labelRule), so write an internationalized name in its xn-- (A-label) form."
        ),
        ("example.com.", "The DKIM domain \"example.com.\" is invalid: it has an empty label (two dots in a row, or a dot at the start or end)."),
        ("example..com", "The DKIM domain \"example..com\" is invalid: it has an empty label (two dots in a row, or a dot at the start or end)."),
        (
            String(repeating: "a", count: 64) + ".com",
            "The DKIM domain \"\(String(repeating: "a", count: 64)).com\" is invalid: the label \"\(String(repeating: "a", count: 64))\" is 64 characters long, but a DNS label has at most 63."
        ),
        (
            Array(repeating: String(repeating: "a", count: 50), count: 5).joined(separator: "."),
            "The DKIM domain \"\(Array(repeating: String(repeating: "a", count: 50), count: 5).joined(separator: "."))\" is invalid: it is 254 characters long, but a DNS name has at most 253."
        ),
    ])
    func invalidDomain(domain: String, description: String) throws {
        let error = try #require(try initError(domain: domain))

        #expect(error.description == description)
    }

    @Test("A-label domain accepted")
    func aLabelDomain() throws {
        #expect(try initError(domain: "xn--e1afmkfd.xn--p1ai") == nil)
    }

    @Test("invalid selectors", arguments: [
        ("", "The DKIM selector \"\" is invalid: it is empty."),
        ("_dkim", "The DKIM selector \"_dkim\" is invalid: the label \"_dkim\" \(labelRule)."),
        ("mail.", "The DKIM selector \"mail.\" is invalid: it has an empty label (two dots in a row, or a dot at the start or end)."),
        ("mail;x", "The DKIM selector \"mail;x\" is invalid: the label \"mail;x\" \(labelRule)."),
    ])
    func invalidSelector(selector: String, description: String) throws {
        let error = try #require(try initError(selector: selector))

        #expect(error.description == description)
    }

    @Test("selector with dots accepted")
    func selectorWithDots() throws {
        #expect(try initError(selector: "2026.december.mail") == nil)
    }

    @Test("key record name over 253 characters")
    func keyRecordNameTooLong() throws {
        let domain = Array(repeating: String(repeating: "d", count: 60), count: 3).joined(separator: ".") + ".example"
        let selector = String(repeating: "s", count: 63)

        let error = try #require(try initError(domain: domain, selector: selector))

        #expect(
            error.description
                == "The DKIM key record name \"\(selector)._domainkey.\(domain)\" is 265 characters long, but a DNS name has at most 253, so choose a shorter selector.")
    }

    @Test("signed header names without From")
    func signedHeadersWithoutFrom() throws {
        let error = try #require(try initError(signedHeaderNames: ["To", "Subject"]))

        #expect(error.description == "The signed header names do not include From, which every DKIM signature must cover (RFC 6376 section 5.4).")
    }

    @Test("invalid signed header names", arguments: ["", "Reply To", "Subject:", "Tö"])
    func invalidSignedHeaderName(name: String) throws {
        let error = try #require(try initError(signedHeaderNames: ["From", name]))

        #expect(
            error.description
                == "The signed header name \"\(name)\" is invalid: a header field name consists of printable ASCII characters other than a colon.")
    }

    // MARK: - Messages

    @Test("message without header separator", arguments: [
        "From: shop@example.com\r\nSubject: No body",
        "From: shop@example.com\r\nSubject: No body\r\n",
        "From: shop@example.com\nSubject: LF line ends\n\nBody\n",
        "",
    ])
    func missingSeparator(message: String) throws {
        let error = try #require(try signError(Array(message.utf8)))

        #expect(
            error.description
                == "The message has no empty line (CRLF CRLF) between its header section and its body, so it cannot be signed.")
    }

    @Test("message whose first line is a continuation")
    func leadingContinuation() throws {
        let error = try #require(try signError(dkimWireBytes(" folded: x\nFrom: shop@example.com\n\nBody\n")))

        #expect(error.description == "The message's first header line starts with white space, so it continues no header field.")
    }

    @Test("header line without a colon")
    func headerLineWithoutColon() throws {
        let error = try #require(try signError(dkimWireBytes("From: shop@example.com\nSubject: ok\nnot a field\n\nBody\n")))

        #expect(error.description == "Header line 3 of the message has no colon, so it is not a header field.")
    }

    @Test("header line with an empty name")
    func headerLineWithEmptyName() throws {
        let error = try #require(try signError(dkimWireBytes("From: shop@example.com\n: no name\n\nBody\n")))

        #expect(error.description == "Header line 2 of the message has an empty field name.")
    }

    @Test("message without From")
    func messageWithoutFrom() throws {
        let error = try #require(try signError(dkimWireBytes("To: ana@example.org\nSubject: Who sent this?\n\nBody\n")))

        #expect(error.description == "The message has no From header field, which a DKIM signature must cover (RFC 6376 section 5.4).")
    }

    @Test("message with an empty header section")
    func emptyHeaderSection() throws {
        let error = try #require(try signError(dkimWireBytes("\nBody only\n")))

        #expect(error.description == "The message has no From header field, which a DKIM signature must cover (RFC 6376 section 5.4).")
    }
}
