import COpenSSL

/// The checking wrapper for every OpenSSL call that DKIM signing makes: a failed call becomes a
/// `DKIMError` that names the function and carries OpenSSL's error queue.
///
/// The error queue is per thread, so each call clears it first. Otherwise the text of an
/// earlier, unrelated failure on the same thread would be reported with this one.
enum OpenSSLCall {
    /// Runs `call`, which returns a positive value on success (1 for most OpenSSL functions)
    /// and 0 or a negative value on failure.
    static func check(_ function: String, failure reason: @autoclosure () -> String, _ call: () -> Int32) throws(DKIMError) {
        ERR_clear_error()
        guard call() > 0 else {
            throw DKIMError(reason(), openSSLFunction: function, openSSLMessage: drainErrors())
        }
    }

    /// Runs `call`, which returns `nil` on failure, and returns its result.
    static func make<Result>(_ function: String, failure reason: @autoclosure () -> String, _ call: () -> Result?) throws(DKIMError) -> Result {
        ERR_clear_error()
        guard let result = call() else {
            throw DKIMError(reason(), openSSLFunction: function, openSSLMessage: drainErrors())
        }
        return result
    }

    /// Reads and empties this thread's OpenSSL error queue, joining the entries with "; ".
    static func drainErrors() -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }

            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            messages.append(String(decoding: bytes, as: UTF8.self))
        }
        return messages.isEmpty ? "OpenSSL gave no details" : messages.joined(separator: "; ")
    }
}
