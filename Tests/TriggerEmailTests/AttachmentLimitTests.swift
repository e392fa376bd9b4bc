import DocumentStore
import MIME
import Testing
import TriggerEmail

@Suite("Attachment size limits")
struct AttachmentLimitTests {
    @Test("Default limits")
    func defaults() {
        let settings = AttachmentSettings()

        #expect(settings.maxBytes == 10_485_760)
        #expect(settings.maxTotalBytes == 26_214_400)
        #expect(settings.fetchTimeout == .seconds(30))
        #expect(settings.allowPrivateAddresses == false)
        #expect(settings.allowedDirectory == nil)
    }

    @Test("Content at the limit passes")
    func atLimit() async throws {
        let loader = AttachmentLoader(settings: AttachmentSettings(maxBytes: 5))

        let attachments = try await loader.load([["filename": "a.txt", "content": "12345"]])

        #expect(attachments.first?.content == Array("12345".utf8))
    }

    @Test("Content over the limit")
    func overLimit() async {
        let loader = AttachmentLoader(settings: AttachmentSettings(maxBytes: 5))

        let message = await loadingError(loader, [["filename": "a.txt", "content": "123456"]])

        #expect(message == "message.attachments[0] (a.txt) is larger than the 5-byte limit set by ATTACHMENT_MAX_BYTES.")
    }

    @Test("Limit counts decoded bytes")
    func decodedBytes() async throws {
        let loader = AttachmentLoader(settings: AttachmentSettings(maxBytes: 4))

        // Eight base64 digits that decode to four bytes.
        let attachments = try await loader.load([["filename": "a.bin", "content": "AAECAw==", "encoding": "base64"]])

        #expect(attachments.first?.content == [0x00, 0x01, 0x02, 0x03])
    }

    @Test("Total over several attachments")
    func total() async {
        let loader = AttachmentLoader(settings: AttachmentSettings(maxBytes: 10, maxTotalBytes: 15))
        let attachments: JSONValue = [
            ["filename": "a.txt", "content": "0123456789"],
            ["filename": "b.txt", "content": "012345"],
        ]

        let message = await loadingError(loader, attachments)

        #expect(message == "message.attachments[1] (b.txt) brings the attachments past the 15-byte limit for one message set by ATTACHMENT_MAX_TOTAL_BYTES.")
    }

    @Test("Total exactly reached passes")
    func totalReached() async throws {
        let loader = AttachmentLoader(settings: AttachmentSettings(maxBytes: 10, maxTotalBytes: 15))

        let attachments = try await loader.load([["filename": "a.txt", "content": "0123456789"], ["filename": "b.txt", "content": "01234"]])

        #expect(attachments.map(\.content.count) == [10, 5])
    }

    @Test("Raw parts count toward the limits")
    func rawParts() async {
        let loader = AttachmentLoader(settings: AttachmentSettings(maxBytes: 20))

        let message = await loadingError(loader, [["raw": "Content-Type: text/plain\n\nx"]])

        #expect(message == "message.attachments[0] is larger than the 20-byte limit set by ATTACHMENT_MAX_BYTES.")
    }
}
