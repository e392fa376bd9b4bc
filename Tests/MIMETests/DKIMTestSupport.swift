import DocumentStore
import Foundation
import MIME
import TestSupport

/// A key pair made by `openssl genpkey` for one test run: the private key in memory, and the
/// public key in a temporary file for `dkim_verify.py`. The private key file is deleted as
/// soon as it is read.
struct DKIMTestKey: Sendable {
    var privateKeyPEM: String
    var publicKeyPath: String

    /// An RSA 2048 key and an Ed25519 key, made once and shared by the tests.
    static let rsa2048 = Result { () throws(TestEnvironmentError) in try generate(["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]) }
    static let ed25519 = Result { () throws(TestEnvironmentError) in try generate(["-algorithm", "ED25519"]) }

    static func key(for algorithm: DKIMAlgorithm) throws -> DKIMTestKey {
        switch algorithm {
        case .rsaSHA256: try rsa2048.get()
        case .ed25519SHA256: try ed25519.get()
        }
    }

    /// Runs `openssl genpkey` with `options`, then derives the public key with `openssl pkey`.
    /// With a `passphrase`, the private key is encrypted with AES-256-CBC.
    static func generate(_ options: [String], passphrase: String? = nil) throws(TestEnvironmentError) -> DKIMTestKey {
        let folder: URL
        do {
            folder = try TestEnvironment.makeTemporaryDirectory()
        } catch {
            throw TestEnvironmentError("cannot create a temporary folder for a DKIM test key: \(error)")
        }
        let privatePath = folder.appendingPathComponent("private.pem").path
        let publicPath = folder.appendingPathComponent("public.pem").path
        defer { try? FileManager.default.removeItem(atPath: privatePath) }

        let encryption = passphrase.map { ["-aes-256-cbc", "-pass", "pass:\($0)"] } ?? []
        let decryption = passphrase.map { ["-passin", "pass:\($0)"] } ?? []
        try runOpenSSL(["genpkey"] + options + encryption + ["-out", privatePath])
        try runOpenSSL(["pkey", "-in", privatePath, "-pubout", "-out", publicPath] + decryption)
        guard let pem = try? String(contentsOfFile: privatePath, encoding: .utf8) else {
            throw TestEnvironmentError("openssl genpkey wrote no readable key to \(privatePath)")
        }
        return DKIMTestKey(privateKeyPEM: pem, publicKeyPath: publicPath)
    }

    /// Runs the `openssl` program and returns its standard output. A non-zero exit status throws.
    @discardableResult
    static func runOpenSSL(_ arguments: [String], input: String? = nil) throws(TestEnvironmentError) -> String {
        let output = Pipe()
        let errors = Pipe()
        let standardInput = Pipe()
        let process: SpawnedProcess
        do {
            process = try SpawnedProcess(
                executable: "/usr/bin/env", arguments: ["openssl"] + arguments,
                standardInput: standardInput.fileHandleForReading.fileDescriptor,
                standardOutput: output.fileHandleForWriting.fileDescriptor,
                standardError: errors.fileHandleForWriting.fileDescriptor)
        } catch {
            throw TestEnvironmentError("cannot start openssl \(arguments.joined(separator: " ")): \(error)")
        }
        try? standardInput.fileHandleForReading.close()
        try? output.fileHandleForWriting.close()
        try? errors.fileHandleForWriting.close()
        if let input {
            standardInput.fileHandleForWriting.write(Data(input.utf8))
        }
        try? standardInput.fileHandleForWriting.close()

        // Both pipes are read to the end before waiting, so a full pipe cannot block openssl.
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestEnvironmentError(
                "openssl \(arguments.joined(separator: " ")) exited with status \(process.terminationStatus): \(String(decoding: errorData, as: UTF8.self))")
        }
        return String(decoding: outputData, as: UTF8.self)
    }
}

/// dkimpy's verdict on a message's first DKIM signature.
struct DKIMVerification: Equatable, CustomStringConvertible {
    var isValid: Bool
    /// dkimpy's reason when the signature is invalid.
    var error: String?

    var description: String { isValid ? "valid" : "invalid: \(error ?? "no reason given")" }
}

/// Verifies `message` with dkimpy (`dkim_verify.py`), which gets the key record built from
/// `key` at `selector._domainkey.domain` and sends no DNS query.
func verifyWithDKIMPy(_ message: [UInt8], key: DKIMTestKey, domain: String = dkimDomain, selector: String = dkimSelector) async throws
    -> DKIMVerification
{
    let child = try ChildProcess(
        executable: try TestEnvironment.python(),
        arguments: [TestEnvironment.pythonScript("dkim_verify.py"), key.publicKeyPath, domain, selector],
        environment: ["PYTHONDONTWRITEBYTECODE": "1"])
    child.write(String(decoding: message, as: UTF8.self))
    child.closeInput()

    let status = try await child.waitForExit()
    guard status == 0 else {
        throw TestEnvironmentError("dkim_verify.py failed with status \(status): \(child.standardError)")
    }
    let result = try JSONValue(parsing: child.standardOutput)
    guard let isValid = result[path: "valid"]?.boolValue else {
        throw TestEnvironmentError("dkim_verify.py printed no \"valid\" field: \(child.standardOutput)")
    }
    return DKIMVerification(isValid: isValid, error: result[path: "error"]?.stringValue)
}

let dkimDomain = "example.com"
let dkimSelector = "mail2026"
/// 2026-12-04T19:21:41Z, the signing time of every test signature.
let dkimSigningTime = Date(timeIntervalSince1970: 1_796_412_101)

/// A composer whose date, Message-ID and boundaries are the same on every run.
let dkimComposer = MessageComposer(
    date: { dkimSigningTime },
    uniqueToken: { "0123456789abcdefghijKLMN" },
    messageIDDomain: "mail.example.com")

/// Makes a signer for `algorithm` with the shared test key.
func makeDKIMSigner(_ algorithm: DKIMAlgorithm, signedHeaderNames: [String] = DKIMSigner.defaultSignedHeaders) throws -> DKIMSigner {
    try DKIMSigner(
        domain: dkimDomain, selector: dkimSelector, privateKeyPEM: try DKIMTestKey.key(for: algorithm).privateKeyPEM,
        signedHeaderNames: signedHeaderNames)
}

/// Turns a multi-line literal into wire text: every LF becomes CRLF.
func dkimWireBytes(_ text: String) -> [UInt8] {
    Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
}

/// Returns the header section of `message`, up to its first empty line, as text.
func dkimHeaderSection(of message: [UInt8]) -> String {
    let text = String(decoding: message, as: UTF8.self)
    return text.components(separatedBy: "\r\n\r\n").first ?? ""
}

/// Returns the field at the top of `message`, folds included, without its final CRLF.
func dkimSignatureField(of message: [UInt8]) -> String {
    var lines = dkimHeaderSection(of: message).components(separatedBy: "\r\n")
    var field = lines.removeFirst()
    while let next = lines.first, next.hasPrefix(" ") || next.hasPrefix("\t") {
        field += "\r\n" + lines.removeFirst()
    }
    return field
}

/// Returns the tags of the DKIM-Signature field at the top of `message`, with white space
/// removed from each value.
func dkimSignatureTags(of message: [UInt8]) -> [String: String] {
    let field = dkimSignatureField(of: message)
    let value = field.dropFirst("DKIM-Signature:".count).replacingOccurrences(of: "\r\n", with: "")
    var tags: [String: String] = [:]
    for tag in value.split(separator: ";") {
        let parts = tag.split(separator: "=", maxSplits: 1)
        guard parts.count == 2 else { continue }
        let name = parts[0].trimmingCharacters(in: .whitespaces)
        tags[name] = parts[1].filter { !$0.isWhitespace }
    }
    return tags
}
