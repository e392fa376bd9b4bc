import DocumentStore
import MIME
import Testing
import TriggerEmail

@Suite("Attachment data URLs")
struct AttachmentDataURLTests {
    let loader = AttachmentLoader()

    func loadOne(_ object: JSONValue) async throws -> MIME.Attachment {
        let attachments = try await loader.load([object])
        return try #require(attachments.first)
    }

    @Test("Base64 data URL")
    func base64() async throws {
        let attachment = try await loadOne(["filename": "pixel.png", "path": "data:image/png;base64,iVBORw0KGgo="])

        #expect(attachment.content == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(attachment.contentType == "image/png")
        #expect(attachment.filename == "pixel.png")
    }

    @Test("Percent-encoded data URL")
    func percentEncoded() async throws {
        let attachment = try await loadOne(["filename": "hello.txt", "path": "data:text/plain;charset=utf-8,Hello%2C%20W%C3%B6rld!"])

        #expect(attachment.content == Array("Hello, Wörld!".utf8))
        #expect(attachment.contentType == "text/plain; charset=utf-8")
    }

    @Test("Data URL in href")
    func href() async throws {
        let attachment = try await loadOne(["href": "DATA:application/json;BASE64,e30="])

        #expect(attachment.content == Array("{}".utf8))
        #expect(attachment.contentType == "application/json")
        #expect(attachment.filename == nil)
    }

    @Test("Data URL without media type")
    func withoutMediaType() async throws {
        let named = try await loadOne(["filename": "note.txt", "path": "data:,plain text"])
        #expect(named.content == Array("plain text".utf8))
        #expect(named.contentType == "text/plain; charset=utf-8")

        let unnamed = try await loadOne(["path": "data:;base64,AAE="])
        #expect(unnamed.content == [0x00, 0x01])
        #expect(unnamed.contentType == "application/octet-stream")
    }

    @Test("Given contentType beats the data URL's")
    func givenContentType() async throws {
        let attachment = try await loadOne(["filename": "a.bin", "path": "data:text/plain,x", "contentType": "application/x-thing"])

        #expect(attachment.contentType == "application/x-thing")
    }

    @Test("Malformed data URLs")
    func malformed() async {
        let cases: [(url: String, expected: String)] = [
            ("data:text/plain;base64", "message.attachments[0] (a.bin) has a data URL without the comma that separates the media type from the data."),
            ("data:image/png;base64,iVBO!w0=", "message.attachments[0] (a.bin) has a data URL whose data is not valid base64 (\"!\" at character 4)."),
            ("data:image/png;base64,A", "message.attachments[0] (a.bin) has a data URL whose data is not valid base64 (a single base64 digit at the end)."),
            ("data:text/plain,100%", "message.attachments[0] (a.bin) has a data URL with the invalid percent-escape \"%\" in its data."),
            ("data:text/plain,%zz", "message.attachments[0] (a.bin) has a data URL with the invalid percent-escape \"%zz\" in its data."),
            ("data:text;base64,AA==", "message.attachments[0] (a.bin) has a data URL with the media type \"text\", which is not a media type such as text/plain."),
            ("data:text/plain;x=\u{1}y,a", "message.attachments[0] (a.bin) has a data URL with the media type \"text/plain; x=\\u{01}y\", which is not a media type such as text/plain."),
        ]
        for (url, expected) in cases {
            let message = await loadingError(loader, [["filename": "a.bin", "path": .string(url)]])
            #expect(message == expected)
        }
    }

    @Test("Size limit applies to decoded data")
    func sizeLimit() async {
        let small = AttachmentLoader(settings: AttachmentSettings(maxBytes: 3))

        let message = await loadingError(small, [["filename": "a.bin", "path": "data:;base64,AAECAw=="]])

        #expect(message == "message.attachments[0] (a.bin) is larger than the 3-byte limit set by ATTACHMENT_MAX_BYTES.")
    }
}
