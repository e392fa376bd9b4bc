import DocumentStore
import Testing

@Suite("DocumentID")
struct DocumentIDTests {
    static let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    @Test("random IDs have 20 characters")
    func randomLength() {
        for _ in 0..<100 {
            #expect(DocumentID.random().count == 20)
        }
        #expect(DocumentID.length == 20)
    }

    @Test("random IDs use only letters and digits")
    func randomAlphabet() {
        for _ in 0..<100 {
            let id = DocumentID.random()
            #expect(id.allSatisfy { Self.alphabet.contains($0) }, "\(id)")
            #expect(throws: Never.self) { try DocumentID.validate(id) }
        }
    }

    @Test("random IDs do not repeat")
    func randomUnique() {
        let ids = (0..<10_000).map { _ in DocumentID.random() }
        #expect(Set(ids).count == ids.count)
    }

    @Test("random IDs draw from the whole alphabet")
    func randomCoversAlphabet() {
        // 2,000 IDs contain 40,000 characters, so a given one of the 62 is missing with a chance of
        // (61/62)^40000, about e^-650.
        let used = Set((0..<2_000).flatMap { _ in DocumentID.random() })
        #expect(used == Self.alphabet)
    }

    @Test(
        "validate accepts letters, digits, '-' and '_'",
        arguments: ["a", "order-1042", "user_7", "ABCxyz0189", "-", "_", String(repeating: "x", count: 128)])
    func validateAccepts(id: String) {
        #expect(throws: Never.self) { try DocumentID.validate(id) }
    }

    @Test(
        "validate rejects other IDs",
        arguments: [
            "", "a b", "a/b", "a.b", "../etc", "é", "a\nb", "a%20b", "a?b", "a#b", String(repeating: "x", count: 129),
        ])
    func validateRejects(id: String) {
        let error = #expect(throws: DocumentStoreError.self) { try DocumentID.validate(id) }
        #expect(error?.kind == .invalidArgument)
        #expect(error?.message == "Invalid document ID \"\(id)\": use 1 to 128 letters, digits, '-' or '_'.")
    }

    @Test("validateCollection names the collection")
    func validateCollection() {
        let error = #expect(throws: DocumentStoreError.self) { try DocumentID.validateCollection("mail/x") }
        #expect(error?.kind == .invalidArgument)
        #expect(error?.message == "Invalid collection name \"mail/x\": use 1 to 128 letters, digits, '-' or '_'.")
        #expect(error?.description == error?.message)
    }
}
