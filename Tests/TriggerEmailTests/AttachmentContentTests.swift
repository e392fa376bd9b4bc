import DocumentStore
import MIME
import Testing
import TriggerEmail

@Suite("Attachment content")
struct AttachmentContentTests {
    let loader = AttachmentLoader()

    /// Loads a one-element array and returns its attachment.
    func loadOne(_ object: JSONValue) async throws -> MIME.Attachment {
        let attachments = try await loader.load([object])
        #expect(attachments.count == 1)
        return try #require(attachments.first)
    }

    @Test("Every encoding decodes content")
    func encodings() async throws {
        let cases: [(encoding: JSONValue, content: String, expected: [UInt8])] = [
            ("base64", "aGVsbG8=", Array("hello".utf8)),
            ("BASE64", "aGVs\r\nbG8", Array("hello".utf8)),
            ("base64", "-_8=", [0xFB, 0xFF]),
            ("base64", "+/8", [0xFB, 0xFF]),
            ("hex", "48656c6C6f00ff", [0x48, 0x65, 0x6C, 0x6C, 0x6F, 0x00, 0xFF]),
            ("utf-8", "héllo", [0x68, 0xC3, 0xA9, 0x6C, 0x6C, 0x6F]),
            ("utf8", "€", [0xE2, 0x82, 0xAC]),
            ("binary", "\u{FF}\u{00}A", [0xFF, 0x00, 0x41]),
            ("latin1", "é", [0xE9]),
            ("ascii", "plain\n", Array("plain\n".utf8)),
            (nil, "ü", [0xC3, 0xBC]),
        ]
        for (encoding, content, expected) in cases {
            let attachment = try await loadOne(["filename": "a.bin", "content": .string(content), "encoding": encoding])
            #expect(attachment.content == expected, "encoding \(encoding)")
        }
    }

    @Test("Invalid encoded content")
    func invalidEncodedContent() async {
        let cases: [(encoding: String, content: String, expected: String)] = [
            ("base64", "aGV!bG8=", "message.attachments[0] (a.bin) has content that is not valid base64 (\"!\" at character 3)."),
            ("base64", "QQ=QQ", "message.attachments[0] (a.bin) has content that is not valid base64 (padding \"=\" before \"Q\" at character 3)."),
            ("base64", "QUJDR", "message.attachments[0] (a.bin) has content that is not valid base64 (a single base64 digit at the end)."),
            ("base64", "QQ===", "message.attachments[0] (a.bin) has content that is not valid base64 (3 padding characters at the end)."),
            ("hex", "abc", "message.attachments[0] (a.bin) has content that is not valid hex (an odd number of digits, 3)."),
            ("hex", "0g", "message.attachments[0] (a.bin) has content that is not valid hex (\"g\" at character 1)."),
            ("hex", "éé", "message.attachments[0] (a.bin) has content that is not valid hex (U+00E9 at character 0)."),
            ("ascii", "café", "message.attachments[0] (a.bin) has content that the ascii encoding cannot represent (U+00E9 at character 3)."),
            ("latin1", "5 €", "message.attachments[0] (a.bin) has content that the latin1 encoding cannot represent (U+20AC at character 2)."),
            ("utf16", "x", "message.attachments[0] (a.bin) has the unknown encoding \"utf16\"; use base64, hex, utf-8, binary, latin1 or ascii."),
        ]
        for (encoding, content, expected) in cases {
            let message = await loadingError(loader, [["filename": "a.bin", "content": .string(content), "encoding": .string(encoding)]])
            #expect(message == expected)
        }
    }

    @Test("Content types from file name extensions")
    func contentTypesFromExtensions() async throws {
        let cases: [(filename: String, expected: String)] = [
            ("report.pdf", "application/pdf"),
            ("logo.png", "image/png"),
            ("photo.jpg", "image/jpeg"),
            ("photo.JPEG", "image/jpeg"),
            ("anim.gif", "image/gif"),
            ("image.webp", "image/webp"),
            ("icon.svg", "image/svg+xml"),
            ("notes.txt", "text/plain; charset=utf-8"),
            ("page.html", "text/html; charset=utf-8"),
            ("page.htm", "text/html; charset=utf-8"),
            ("table.csv", "text/csv; charset=utf-8"),
            ("invite.ics", "text/calendar; charset=utf-8"),
            ("data.json", "application/json"),
            ("feed.xml", "application/xml"),
            ("bundle.zip", "application/zip"),
            ("archive.tar.gz", "application/gzip"),
            ("letter.doc", "application/msword"),
            ("letter.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            ("sheet.xls", "application/vnd.ms-excel"),
            ("sheet.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ("slides.ppt", "application/vnd.ms-powerpoint"),
            ("slides.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
            ("letter.odt", "application/vnd.oasis.opendocument.text"),
            ("sheet.ods", "application/vnd.oasis.opendocument.spreadsheet"),
            ("song.mp3", "audio/mpeg"),
            ("clip.mp4", "video/mp4"),
            ("sound.wav", "audio/wav"),
            ("forwarded.eml", "message/rfc822"),
            ("program.exe", "application/octet-stream"),
            ("README", "application/octet-stream"),
            (".profile", "application/octet-stream"),
        ]
        for (filename, expected) in cases {
            let attachment = try await loadOne(["filename": .string(filename), "content": "x"])
            #expect(attachment.contentType == expected, "\(filename)")
        }
    }

    @Test("Text without UTF-8 gets no charset")
    func textWithoutUTF8() async throws {
        let attachment = try await loadOne(["filename": "legacy.txt", "content": "E9", "encoding": "hex"])

        #expect(attachment.contentType == "text/plain")
    }

    @Test("No file name means octet-stream")
    func noFileName() async throws {
        let attachment = try await loadOne(["content": "x"])

        #expect(attachment.filename == nil)
        #expect(attachment.contentType == "application/octet-stream")
    }

    @Test("Given contentType is kept as written")
    func givenContentType() async throws {
        let plain = try await loadOne(["filename": "a.txt", "content": "x", "contentType": "text/plain"])
        #expect(plain.contentType == "text/plain")

        let withParameter = try await loadOne(["filename": "a.bin", "content": "x", "contentType": "application/x-custom; name=\"a b\""])
        #expect(withParameter.contentType == "application/x-custom; name=\"a b\"")
    }

    @Test("cid makes the part inline")
    func contentIDMakesInline() async throws {
        let plain = try await loadOne(["filename": "logo.png", "content": "x", "cid": "logo@example.org"])
        #expect(plain.disposition == .inline)
        #expect(plain.contentID == "logo@example.org")

        let bracketed = try await loadOne(["filename": "logo.png", "content": "x", "cid": "<logo@example.org>"])
        #expect(bracketed.contentID == "logo@example.org")

        let explicit = try await loadOne(["filename": "logo.png", "content": "x", "cid": "logo", "contentDisposition": "attachment"])
        #expect(explicit.disposition == .attachment)
        #expect(explicit.contentID == "logo")
    }

    @Test("Disposition defaults and values")
    func dispositions() async throws {
        let plain = try await loadOne(["filename": "a.pdf", "content": "x"])
        #expect(plain.disposition == .attachment)
        #expect(plain.contentID == nil)

        let inline = try await loadOne(["filename": "a.png", "content": "x", "contentDisposition": "INLINE"])
        #expect(inline.disposition == .inline)
    }

    @Test("Headers in name order")
    func headers() async throws {
        let attachment = try await loadOne(["filename": "a.pdf", "content": "x", "headers": ["X-B": "2", "X-A": "1"]])

        #expect(attachment.headers == [HeaderField(name: "X-A", value: "1"), HeaderField(name: "X-B", value: "2")])
    }

    @Test("Invalid headers")
    func invalidHeaders() async {
        let cases: [(headers: JSONValue, expected: String)] = [
            (["Subject": "x"], "message.attachments[0] (a.pdf) has an invalid header \"Subject\": this header is set from the document's own fields and cannot be replaced through headers."),
            (["Content-Type": "text/html"], "message.attachments[0] (a.pdf) has an invalid header \"Content-Type\": this header is set from the document's own fields and cannot be replaced through headers."),
            (["Content-ID": "<x>"], "message.attachments[0] (a.pdf) has an invalid header \"Content-ID\": it is set from the contentDisposition and cid fields."),
            (["content-disposition": "inline"], "message.attachments[0] (a.pdf) has an invalid header \"content-disposition\": it is set from the contentDisposition and cid fields."),
            (["Bad Name": "x"], "message.attachments[0] (a.pdf) has an invalid header \"Bad Name\": a header name may contain only printable ASCII characters other than ':'."),
            (["X-Note": "a\r\nBcc: b@example.org"], "message.attachments[0] (a.pdf) has an invalid header \"X-Note\": the value contains a line break (CR or LF), which could inject header fields."),
            (["X-Count": 1], "message.attachments[0] (a.pdf) has the header \"X-Count\" set to a number; header values must be strings."),
            ("X-A: 1", "message.attachments[0] (a.pdf) has headers that are a string, not an object of header names and string values."),
        ]
        for (headers, expected) in cases {
            let message = await loadingError(loader, [["filename": "a.pdf", "content": "x", "headers": headers]])
            #expect(message == expected)
        }
    }

    @Test("Raw part is sent as given with CRLF")
    func rawPart() async throws {
        let raw = "Content-Type: text/plain\nContent-Disposition: attachment; filename=a.txt\n\nline one\rline two\r\nend"
        let attachment = try await loadOne(["raw": .string(raw), "filename": "ignored.pdf"])

        let expected = "Content-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nline one\r\nline two\r\nend"
        #expect(attachment == MIME.Attachment.raw(Array(expected.utf8)))
    }

    @Test("Every field of a complete attachment")
    func completeAttachment() async throws {
        let attachment = try await loadOne([
            "filename": "Отчёт.pdf", "content": "JVBERi0=", "encoding": "base64", "cid": "report",
            "contentDisposition": "attachment", "headers": ["X-Report-Id": "42"],
        ])

        let expected = MIME.Attachment(
            filename: "Отчёт.pdf", contentType: "application/pdf", disposition: .attachment, contentID: "report",
            headers: [HeaderField(name: "X-Report-Id", value: "42")], content: Array("%PDF-".utf8))
        #expect(attachment == expected)
    }

    @Test("Null and empty arrays give no attachments")
    func noAttachments() async throws {
        let fromNull = try await loader.load(nil)
        #expect(fromNull == [])

        let fromEmpty = try await loader.load([])
        #expect(fromEmpty == [])
    }

    @Test("Order of attachments is kept")
    func order() async throws {
        let attachments = try await loader.load([["filename": "1.txt", "content": "a"], ["filename": "2.txt", "content": "b"]])

        #expect(attachments.map(\.filename) == ["1.txt", "2.txt"])
    }

    @Test("Field errors name the attachment")
    func fieldErrors() async {
        let cases: [(attachments: JSONValue, expected: String)] = [
            ("a.pdf", "Field 'message.attachments' must be an array of attachment objects, but it is a string."),
            (["a.pdf"], "message.attachments[0] is a string, but each attachment must be an object with filename and one of content, path, href or raw."),
            ([["filename": "a.pdf"]], "message.attachments[0] (a.pdf) has none of content, path, href or raw; set exactly one of them."),
            ([["filename": "a.pdf", "content": "x", "path": "a.pdf"]], "message.attachments[0] (a.pdf) has content and path; set exactly one of content, path, href or raw."),
            ([["filename": 7, "content": "x"]], "message.attachments[0] has filename set to a number; it must be a string."),
            ([["filename": "a\nb.pdf", "content": "x"]], "message.attachments[0] has a filename with the control character U+000A; remove it."),
            ([["filename": "a.pdf", "content": ["x"]]], "message.attachments[0] (a.pdf) has content set to an array; it must be a string."),
            ([["filename": "a.pdf", "content": "x", "contentType": "pdf"]], "message.attachments[0] (a.pdf) has the contentType \"pdf\", which is not a media type such as application/pdf."),
            ([["filename": "a.pdf", "content": "x", "contentType": "text/plain\r\nBcc: x@example.org"]],
             "message.attachments[0] (a.pdf) has the contentType \"text/plain\\r\\nBcc: x@example.org\", which is not a media type such as application/pdf."),
            ([["filename": "a.pdf", "content": "x", "contentDisposition": "form-data"]], "message.attachments[0] (a.pdf) has the contentDisposition \"form-data\"; use attachment or inline."),
            ([["filename": "a.png", "content": "x", "cid": "my logo"]],
             "message.attachments[0] (a.png) has the cid \"my logo\", but a Content-ID may contain only printable ASCII characters other than space, '<' and '>'."),
            ([["filename": "a.pdf", "raw": ""]], "message.attachments[0] (a.pdf) has an empty raw part."),
            ([["filename": "a.pdf", "path": ""]], "message.attachments[0] (a.pdf) has an empty path."),
            ([["path": "ftp://files.example.org/a.pdf"]], "message.attachments[0] (a.pdf) has a URL with the unsupported scheme \"ftp\" in path; use an http, https or data URL."),
            ([["path": "file:///etc/passwd"]], "message.attachments[0] (passwd) has a URL with the unsupported scheme \"file\" in path; use an http, https or data URL."),
            ([["href": "https:///a.pdf"]], "message.attachments[0] (a.pdf) has a URL without a host in href; use an http, https or data URL."),
            ([["href": "http://[::1/a.pdf"]], "message.attachments[0] (a.pdf) has a URL in href that cannot be parsed; percent-encode spaces and other special characters."),
            ([["href": "reports/a.pdf"]], "message.attachments[0] (a.pdf) has an href that is not a URL; use an http, https or data URL, or path for a local file."),
            ([["filename": "b.pdf", "content": "x"], ["filename": "c.pdf", "encoding": "base64", "content": "!"]],
             "message.attachments[1] (c.pdf) has content that is not valid base64 (\"!\" at character 0)."),
        ]
        for (attachments, expected) in cases {
            let message = await loadingError(loader, attachments)
            #expect(message == expected)
        }
    }

    @Test("Custom field name in errors")
    func customFieldName() async {
        do {
            _ = try await loader.load([["filename": "a.pdf"]], field: "attachments")
            Issue.record("an attachment without content was accepted")
        } catch {
            #expect(error.message == "attachments[0] (a.pdf) has none of content, path, href or raw; set exactly one of them.")
        }
    }
}
