/// Document IDs: 20 random characters from `[A-Za-z0-9]`, as Firestore makes them, which is
/// about 119 bits of randomness, so IDs made by separate processes do not collide in practice.
public enum DocumentID {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    public static let length = 20

    public static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: length)
        for index in bytes.indices {
            bytes[index] = alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Checks an ID a caller chose (`trigger-email add --id`). IDs appear in file names
    /// (`outbox/ID.eml`) and URLs, so only letters, digits, `-` and `_` are allowed, up to 128.
    public static func validate(_ id: String) throws(DocumentStoreError) {
        let allowed = id.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        guard !id.isEmpty, id.utf8.count <= 128, allowed else {
            throw DocumentStoreError(
                .invalidArgument,
                "Invalid document ID \"\(id)\": use 1 to 128 letters, digits, '-' or '_'.")
        }
    }

    /// Checks a collection name: the same characters as an ID.
    public static func validateCollection(_ name: String) throws(DocumentStoreError) {
        do {
            try validate(name)
        } catch {
            throw DocumentStoreError(
                .invalidArgument,
                "Invalid collection name \"\(name)\": use 1 to 128 letters, digits, '-' or '_'.")
        }
    }
}
