import DocumentStore
import Testing
import TriggerEmail

@Suite("Mail document")
struct MailDocumentTests {
    @Test("Recipients as string or array")
    func recipientsAsStringOrArray() throws {
        let document = try MailDocument(fields: [
            "to": "a@example.org, B <b@example.org>",
            "cc": ["c@example.org", "d@example.org"],
            "bcc": nil,
            "message": ["subject": "S", "html": "<p>x</p>"],
        ])

        #expect(document.to == ["a@example.org, B <b@example.org>"])
        #expect(document.cc == ["c@example.org", "d@example.org"])
        #expect(document.bcc == [])
        #expect(document.message?.html == "<p>x</p>")
        #expect(document.message?.text == nil)
    }

    @Test("Headers keep string and number values in name order")
    func headers() throws {
        let document = try MailDocument(fields: [
            "to": "a@example.org", "message": ["subject": "S", "text": "T"],
            "headers": ["X-Priority": 1, "List-Unsubscribe": "<mailto:u@example.org>"],
        ])

        #expect(document.headers.map(\.name) == ["List-Unsubscribe", "X-Priority"])
        #expect(document.headers.map(\.value) == ["<mailto:u@example.org>", "1"])
    }

    @Test("Wrong types name the field")
    func wrongTypes() {
        let cases: [(JSONObject, String)] = [
            (["to": "a@example.org", "from": 1, "message": ["subject": "S", "text": "T"]], "Field 'from' must be a string, but it is a number."),
            (["to": "a@example.org", "headers": "X-A: b", "message": ["subject": "S", "text": "T"]],
             "Field 'headers' must be an object of header names and string values, but it is a string."),
            (["to": "a@example.org", "headers": ["X-A": ["b"]], "message": ["subject": "S", "text": "T"]],
             "Field 'headers.X-A' must be a string, but it is an array."),
            (["to": "a@example.org", "toUids": "u1", "message": ["subject": "S", "text": "T"]],
             "Field 'toUids' must be an array of strings, but it is a string."),
            (["to": "a@example.org", "template": ["data": [:]]], "Field 'template.name' is missing or not a string: name the template to render."),
            (["to": "a@example.org", "message": ["subject": "S", "text": "T", "attachments": ["filename": "a.txt"]]],
             "Field 'message.attachments' must be an array of attachment objects, but it is an object."),
            (["to": "a@example.org", "message": ["subject": "S", "text": "T", "amp": 1]],
             "Field 'message.amp' must be a string, but it is a number."),
        ]
        for (fields, expected) in cases {
            #expect(throws: MailDocumentError(expected)) { try MailDocument(fields: fields) }
        }
    }
}
