import COpenSSL
import Foundation

/// Random bytes from OpenSSL's generator, drawn 4 KiB at a time. A Message-ID and each MIME
/// boundary need a random token, and `SystemRandomNumberGenerator` makes one `getrandom` call
/// per 8 bytes, which showed as 5% of a delivery worker's CPU time in a profile.
final class RandomTokenSource: @unchecked Sendable {
    static let shared = RandomTokenSource()

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
    /// The largest multiple of the alphabet's size that fits in a byte: bytes from it upwards
    /// are skipped, so every letter is equally likely.
    private static let acceptedBound = UInt8(256 / alphabet.count * alphabet.count)

    private let lock = NSLock()
    private var buffer = [UInt8](repeating: 0, count: 4096)
    private var position = 4096

    /// Returns `length` characters drawn uniformly from `[A-Za-z0-9]`.
    func token(length: Int) -> String {
        var characters: [UInt8] = []
        characters.reserveCapacity(length)
        lock.withLock {
            while characters.count < length {
                if position == buffer.count { refill() }
                let byte = buffer[position]
                position += 1
                if byte < Self.acceptedBound {
                    characters.append(Self.alphabet[Int(byte) % Self.alphabet.count])
                }
            }
        }
        return String(decoding: characters, as: UTF8.self)
    }

    private func refill() {
        let succeeded = buffer.withUnsafeMutableBufferPointer { bytes in
            RAND_bytes(bytes.baseAddress, Int32(bytes.count)) == 1
        }
        if !succeeded {
            // RAND_bytes fails when OpenSSL cannot seed its generator; the kernel's generator,
            // behind SystemRandomNumberGenerator, does not depend on that seeding.
            var generator = SystemRandomNumberGenerator()
            for index in buffer.indices {
                buffer[index] = UInt8.random(in: 0...255, using: &generator)
            }
        }
        position = 0
    }
}
