import COpenSSL
import Foundation

/// A TCP connection to the server, in clear text or TLS, with a line reader for replies.
///
/// The descriptor is non-blocking and every wait goes through `poll` with a deadline, so no
/// read, write, connect or handshake can hang. The calls still block their thread: the client
/// runs sessions on its own threads, never on Swift's cooperative pool.
final class SMTPSocket {
    private var descriptor: Int32
    private var tls: OpaquePointer?
    private var buffer: [UInt8] = []
    private var bufferStart = 0
    /// The landing area of each read before it is appended to `buffer`. It lives as long as the
    /// socket, so a read costs no allocation.
    private var chunk = [UInt8](repeating: 0, count: 4096)

    /// The longest reply line accepted. RFC 5321 allows 512 octets; some servers send longer
    /// lines, so this is generous, but it stops a broken server from filling memory.
    static let maxLineLength = 8192

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        close()
    }

    var isTLS: Bool { tls != nil }

    /// The negotiated TLS version, such as `TLSv1.3`, when TLS is on.
    var tlsVersion: String? {
        tls.flatMap { SSL_get_version($0) }.map { String(cString: $0) }
    }

    /// The server certificate's subject, issuer and expiry, when TLS is on.
    var peerCertificate: CertificateSummary? {
        guard let tls, let certificate = SSL_get1_peer_certificate(tls) else { return nil }
        defer { X509_free(certificate) }

        func name(_ value: OpaquePointer?) -> String {
            var buffer = [CChar](repeating: 0, count: 512)
            guard let value, X509_NAME_oneline(value, &buffer, Int32(buffer.count)) != nil else { return "" }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }

        var expiry = ""
        if let bio = BIO_new(BIO_s_mem()) {
            defer { BIO_free(bio) }
            if ASN1_TIME_print(bio, X509_get0_notAfter(certificate)) == 1 {
                var buffer = [UInt8](repeating: 0, count: Int(BIO_ctrl_pending(bio)))
                let count = BIO_read(bio, &buffer, Int32(buffer.count))
                expiry = String(decoding: buffer.prefix(Int(max(0, count))), as: UTF8.self)
            }
        }
        return CertificateSummary(
            subject: name(X509_get_subject_name(certificate)), issuer: name(X509_get_issuer_name(certificate)), expires: expiry)
    }

    // MARK: - Connect

    /// Resolves `host` and connects to the first address that accepts within `timeout`.
    static func connect(host: String, port: Int, timeout: Duration) throws -> SMTPSocket {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let result = getaddrinfo(host, String(port), &hints, &list)
        guard result == 0, let list else {
            throw TransportError(kind: .system, message: "cannot resolve \(host): \(String(cString: gai_strerror(result)))")
        }
        defer { freeaddrinfo(list) }

        var lastError = TransportError(kind: .system, message: "\(host) resolved to no address")
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let address = entry {
            do {
                return try connect(to: address.pointee, timeout: timeout)
            } catch let error as TransportError {
                lastError = error
            }
            entry = address.pointee.ai_next
        }
        throw lastError
    }

    private static func connect(to address: addrinfo, timeout: Duration) throws -> SMTPSocket {
        let descriptor = socket(address.ai_family, address.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), address.ai_protocol)
        guard descriptor >= 0 else { throw TransportError.system("socket", errno: errno) }
        let socket = SMTPSocket(descriptor: descriptor)

        let flags = fcntl(descriptor, F_GETFL)
        guard fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) == 0 else { throw TransportError.system("fcntl", errno: errno) }
        var noDelay: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))

        if Glibc.connect(descriptor, address.ai_addr, address.ai_addrlen) != 0 {
            guard errno == EINPROGRESS else { throw TransportError(kind: .system, message: String(cString: strerror(errno))) }

            try socket.wait(for: Int16(POLLOUT), until: Deadline(after: timeout), what: "connecting")
            var socketError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &socketError, &length)
            guard socketError == 0 else { throw TransportError(kind: .system, message: String(cString: strerror(socketError))) }
        }
        return socket
    }

    func close() {
        if let tls {
            SSL_free(tls)
            self.tls = nil
        }
        if descriptor >= 0 {
            Glibc.close(descriptor)
            descriptor = -1
        }
    }

    // MARK: - TLS

    /// Runs the TLS handshake on this connection and checks the certificate against
    /// `expectedName` (a host name or an IP address) unless verification is off.
    func startTLS(context: TLSContext, expectedName: String, timeout: Duration) throws {
        // Bytes that arrived after the STARTTLS reply but before the handshake were sent in
        // clear text. Taking them as replies later would let anyone on the path inject them
        // (RFC 3207 section 6), so the connection is given up instead.
        guard bufferStart == buffer.count else {
            throw TransportError(kind: .tls, message: "the server sent data after its STARTTLS reply, before the TLS handshake")
        }
        guard let ssl = SSL_new(context.context) else {
            throw TransportError(kind: .tls, message: "cannot start TLS: \(OpenSSLErrors.drain())")
        }
        tls = ssl
        SSL_set_fd(ssl, descriptor)

        let isIPAddress = expectedName.contains(":") || expectedName.allSatisfy { $0.isNumber || $0 == "." }
        if !isIPAddress {
            // SNI carries host names only (RFC 6066 section 3).
            copenssl_set_tlsext_host_name(ssl, expectedName)
        }
        if context.configuration.verifiesCertificate {
            let parameters = SSL_get0_param(ssl)
            let accepted = isIPAddress
                ? X509_VERIFY_PARAM_set1_ip_asc(parameters, expectedName)
                : X509_VERIFY_PARAM_set1_host(parameters, expectedName, 0)
            guard accepted == 1 else {
                throw TransportError(kind: .tls, message: "cannot check the certificate for \(expectedName): \(OpenSSLErrors.drain())")
            }
        }

        let deadline = Deadline(after: timeout)
        while true {
            ERR_clear_error()
            let result = SSL_connect(ssl)
            if result == 1 { return }
            try waitForTLS(result: result, deadline: deadline, what: "during the TLS handshake") {
                let verifyResult = SSL_get_verify_result(ssl)
                if verifyResult != X509_V_OK {
                    return "the server's certificate was not accepted: \(String(cString: X509_verify_cert_error_string(verifyResult)))"
                }
                return "the TLS handshake failed: \(OpenSSLErrors.drain())"
            }
        }
    }

    /// Waits for the readiness OpenSSL requests after a call that did not complete, or throws
    /// the failure.
    private func waitForTLS(result: Int32, deadline: Deadline, what: String, failure: () -> String) throws {
        let error = SSL_get_error(tls, result)
        switch error {
        case SSL_ERROR_WANT_READ:
            try wait(for: Int16(POLLIN), until: deadline, what: what)
        case SSL_ERROR_WANT_WRITE:
            try wait(for: Int16(POLLOUT), until: deadline, what: what)
        case SSL_ERROR_ZERO_RETURN:
            throw TransportError.connectionClosed
        case SSL_ERROR_SYSCALL:
            let code = errno
            let queued = OpenSSLErrors.drain()
            if code == 0 || code == EAGAIN {
                if queued != "no details from OpenSSL" {
                    throw TransportError(kind: .tls, message: "TLS failed: \(queued)")
                }
                throw TransportError.connectionClosed
            }
            throw TransportError.system("TLS I/O", errno: code)
        default:
            throw TransportError(kind: .tls, message: failure())
        }
    }

    // MARK: - Reading and writing

    /// Sends all of `bytes` before `deadline`.
    func write(_ bytes: [UInt8], deadline: Deadline, what: String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = try bytes.withUnsafeBytes { raw -> Int in
                let pointer = raw.baseAddress! + offset
                let count = bytes.count - offset
                if let tls {
                    ERR_clear_error()
                    let result = SSL_write(tls, pointer, Int32(clamping: count))
                    if result > 0 { return Int(result) }
                    try waitForTLS(result: result, deadline: deadline, what: what) { "TLS write failed: \(OpenSSLErrors.drain())" }
                    return 0
                }
                let result = send(descriptor, pointer, count, Int32(MSG_NOSIGNAL))
                if result >= 0 { return result }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    try wait(for: Int16(POLLOUT), until: deadline, what: what)
                    return 0
                }
                if errno == EINTR { return 0 }
                if errno == EPIPE || errno == ECONNRESET { throw TransportError.connectionClosed }
                throw TransportError.system("send", errno: errno)
            }
            offset += written
        }
    }

    /// Reads one line, without its line break.
    func readLine(deadline: Deadline, what: String) throws -> String {
        while true {
            if let newline = buffer[bufferStart...].firstIndex(of: 0x0A) {
                var end = newline
                if end > bufferStart, buffer[end - 1] == 0x0D { end -= 1 }
                let line = String(decoding: buffer[bufferStart..<end], as: UTF8.self)
                bufferStart = newline + 1
                if bufferStart == buffer.count {
                    buffer.removeAll(keepingCapacity: true)
                    bufferStart = 0
                }
                return line
            }
            guard buffer.count - bufferStart <= Self.maxLineLength else {
                throw TransportError(kind: .lineTooLong, message: "the server sent a line longer than \(Self.maxLineLength) octets")
            }
            try fill(deadline: deadline, what: what)
        }
    }

    private func fill(deadline: Deadline, what: String) throws {
        if bufferStart > 0 {
            buffer.removeFirst(bufferStart)
            bufferStart = 0
        }

        while true {
            let count = try chunk.withUnsafeMutableBytes { raw -> Int in
                if let tls {
                    ERR_clear_error()
                    let result = SSL_read(tls, raw.baseAddress, Int32(raw.count))
                    if result > 0 { return Int(result) }
                    try waitForTLS(result: result, deadline: deadline, what: what) { "TLS read failed: \(OpenSSLErrors.drain())" }
                    return -1
                }
                let result = recv(descriptor, raw.baseAddress, raw.count, 0)
                if result > 0 { return result }
                if result == 0 { throw TransportError.connectionClosed }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    try wait(for: Int16(POLLIN), until: deadline, what: what)
                    return -1
                }
                if errno == EINTR { return -1 }
                if errno == ECONNRESET { throw TransportError.connectionClosed }
                throw TransportError.system("recv", errno: errno)
            }
            if count > 0 {
                buffer += chunk[0..<count]
                return
            }
        }
    }

    private func wait(for events: Int16, until deadline: Deadline, what: String) throws {
        while true {
            let remaining = deadline.remainingMilliseconds
            guard remaining > 0 else { throw TransportError.timedOut(what) }

            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let result = poll(&entry, 1, remaining)
            if result > 0 { return }
            if result == 0 { throw TransportError.timedOut(what) }
            if errno != EINTR { throw TransportError.system("poll", errno: errno) }
        }
    }
}
