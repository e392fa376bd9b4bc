import COpenSSL

/// An OpenSSL client context configured once from `TLSConfiguration`: TLS 1.2 or newer, and
/// the trusted CAs. Loading the system's CA store is slow, so one context serves every
/// connection of a client.
final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    let configuration: TLSConfiguration

    init(_ configuration: TLSConfiguration) throws {
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TransportError(kind: .tls, message: "cannot create a TLS context: \(OpenSSLErrors.drain())")
        }
        self.context = context
        self.configuration = configuration

        let minimum = configuration.minimumVersion == .tls13 ? TLS1_3_VERSION : TLS1_2_VERSION
        guard copenssl_set_min_proto_version(context, minimum) == 1 else {
            throw TransportError(kind: .tls, message: "cannot require \(configuration.minimumVersion.rawValue): \(OpenSSLErrors.drain())")
        }

        guard configuration.verifiesCertificate else {
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
            return
        }

        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        if let caFile = configuration.caFile {
            guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                throw TransportError(kind: .tls, message: "cannot load CA certificates from \(caFile): \(OpenSSLErrors.drain())")
            }
        } else {
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw TransportError(kind: .tls, message: "cannot load the system's CA certificates: \(OpenSSLErrors.drain())")
            }
        }
    }

    deinit {
        SSL_CTX_free(context)
    }
}

/// Reads OpenSSL's thread-local error queue into one sentence.
enum OpenSSLErrors {
    static func drain() -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.isEmpty ? "no details from OpenSSL" : messages.joined(separator: "; ")
    }
}
