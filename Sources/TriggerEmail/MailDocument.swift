import DocumentStore

/// A mail document's fields, read and checked, in the schema of Firebase's Trigger Email
/// extension: `to`, `cc`, `bcc` (a string or an array of strings), `toUids`, `ccUids`,
/// `bccUids`, `from`, `replyTo`, `headers`, and `message` (`subject`, `text`, `html`) or
/// `template` (`name`, `data`).
public struct MailDocument: Sendable, Equatable {
    public var to: [String]
    public var cc: [String]
    public var bcc: [String]
    public var toUids: [String]
    public var ccUids: [String]
    public var bccUids: [String]
    public var from: String?
    public var replyTo: String?
    /// Extra header fields in the order of their names, so the output does not depend on how the
    /// JSON object was stored.
    public var headers: [(name: String, value: String)]
    public var message: Message?
    public var template: Template?

    public struct Message: Sendable, Equatable {
        public var subject: String?
        public var text: String?
        public var html: String?
        public var amp: String?
        /// The attachments as the document wrote them; `AttachmentLoader` reads them, because
        /// loading one may need the network or the file system.
        public var attachments: JSONValue?

        /// Checks that the message has a subject and a body, naming the template when the
        /// message was rendered from one.
        func checkContent(templateName: String?) throws(MailDocumentError) {
            let source = templateName.map { " Neither the template '\($0)' nor the document's message sets it." } ?? ""
            guard subject != nil else {
                throw MailDocumentError("Field 'message.subject' is missing: every message needs a subject.\(source)")
            }
            guard text != nil || html != nil else {
                let templateSource = templateName.map { " Add text or html to the template '\($0)' or to the document's message." } ?? ""
                throw MailDocumentError("The message has neither text nor html: set message.text, message.html or both.\(templateSource)")
            }
            guard amp == nil || html != nil else {
                throw MailDocumentError("Field 'message.amp' needs message.html beside it, because mail clients without AMP show the HTML.")
            }
        }
    }

    public struct Template: Sendable, Equatable {
        public var name: String
        public var data: JSONObject
    }

    public static func == (lhs: MailDocument, rhs: MailDocument) -> Bool {
        lhs.to == rhs.to && lhs.cc == rhs.cc && lhs.bcc == rhs.bcc && lhs.toUids == rhs.toUids
            && lhs.ccUids == rhs.ccUids && lhs.bccUids == rhs.bccUids && lhs.from == rhs.from
            && lhs.replyTo == rhs.replyTo && lhs.message == rhs.message && lhs.template == rhs.template
            && lhs.headers.map(\.name) == rhs.headers.map(\.name) && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }

    /// Reads a document's fields and checks them; the first problem found is thrown.
    public init(fields: JSONObject) throws(MailDocumentError) {
        to = try Self.recipients(fields, "to")
        cc = try Self.recipients(fields, "cc")
        bcc = try Self.recipients(fields, "bcc")
        toUids = try Self.stringArray(fields, "toUids")
        ccUids = try Self.stringArray(fields, "ccUids")
        bccUids = try Self.stringArray(fields, "bccUids")
        from = try Self.optionalString(fields, "from")
        replyTo = try Self.optionalString(fields, "replyTo")
        headers = try Self.headerFields(fields["headers"])
        message = try Self.message(fields["message"])
        template = try Self.template(fields["template"])

        let hasRecipient = !(to.isEmpty && cc.isEmpty && bcc.isEmpty && toUids.isEmpty && ccUids.isEmpty && bccUids.isEmpty)
        guard hasRecipient else {
            throw MailDocumentError("The document has no recipient: set at least one of to, cc, bcc, toUids, ccUids or bccUids.")
        }
        guard message != nil || template != nil else {
            throw MailDocumentError("The document has neither message nor template: add a message with a subject and a text or html body.")
        }
        if let message, template == nil {
            try message.checkContent(templateName: nil)
        }
    }

    // MARK: - Fields

    static func describe(_ value: JSONValue) -> JSONValueDescription {
        JSONValueDescription(text: value.typeDescription)
    }

    private static func recipients(_ fields: JSONObject, _ name: String) throws(MailDocumentError) -> [String] {
        guard let value = fields[name], !value.isNull else { return [] }

        switch value {
        case .string(let text):
            return text.isEmpty ? [] : [text]
        case .array(let elements):
            var recipients: [String] = []
            for (index, element) in elements.enumerated() {
                guard let text = element.stringValue else {
                    throw MailDocumentError("Field '\(name)[\(index)]' must be a string, but it is \(element.typeDescription).")
                }
                if !text.isEmpty { recipients.append(text) }
            }
            return recipients
        default:
            throw .wrongType(name, expected: "a string or an array of strings", actual: describe(value))
        }
    }

    private static func stringArray(_ fields: JSONObject, _ name: String) throws(MailDocumentError) -> [String] {
        guard let value = fields[name], !value.isNull else { return [] }
        guard let elements = value.arrayValue else {
            throw .wrongType(name, expected: "an array of strings", actual: describe(value))
        }

        var strings: [String] = []
        for (index, element) in elements.enumerated() {
            guard let text = element.stringValue else {
                throw MailDocumentError("Field '\(name)[\(index)]' must be a string, but it is \(element.typeDescription).")
            }
            strings.append(text)
        }
        return strings
    }

    private static func optionalString(_ fields: JSONObject, _ name: String) throws(MailDocumentError) -> String? {
        guard let value = fields[name], !value.isNull else { return nil }
        guard let text = value.stringValue else {
            throw .wrongType(name, expected: "a string", actual: describe(value))
        }
        return text.isEmpty ? nil : text
    }

    private static func headerFields(_ value: JSONValue?) throws(MailDocumentError) -> [(name: String, value: String)] {
        guard let value, !value.isNull else { return [] }
        guard let object = value.objectValue else {
            throw .wrongType("headers", expected: "an object of header names and string values", actual: describe(value))
        }

        var fields: [(name: String, value: String)] = []
        for name in object.keys.sorted() {
            switch object[name]! {
            case .string(let text):
                fields.append((name, text))
            case .number(let number):
                fields.append((name, JSONValue.formatNumber(number)))
            case let other:
                throw MailDocumentError("Field 'headers.\(name)' must be a string, but it is \(other.typeDescription).")
            }
        }
        return fields
    }

    private static func message(_ value: JSONValue?) throws(MailDocumentError) -> Message? {
        guard let value, !value.isNull else { return nil }
        guard let object = value.objectValue else {
            throw .wrongType("message", expected: "an object with subject, text and html", actual: describe(value))
        }

        var attachments: JSONValue?
        if let value = object["attachments"], !value.isNull {
            guard value.arrayValue != nil else {
                throw .wrongType("message.attachments", expected: "an array of attachment objects", actual: describe(value))
            }
            attachments = value
        }

        return Message(
            subject: try optionalMessageString(object, "subject"),
            text: try optionalMessageString(object, "text"),
            html: try optionalMessageString(object, "html"),
            amp: try optionalMessageString(object, "amp"),
            attachments: attachments)
    }

    private static func optionalMessageString(_ object: JSONObject, _ name: String) throws(MailDocumentError) -> String? {
        guard let value = object[name], !value.isNull else { return nil }
        guard let text = value.stringValue else {
            throw .wrongType("message.\(name)", expected: "a string", actual: describe(value))
        }
        return text
    }

    private static func template(_ value: JSONValue?) throws(MailDocumentError) -> Template? {
        guard let value, !value.isNull else { return nil }
        guard let object = value.objectValue else {
            throw .wrongType("template", expected: "an object with name and data", actual: describe(value))
        }
        guard let nameValue = object["name"], let name = nameValue.stringValue, !name.isEmpty else {
            throw MailDocumentError("Field 'template.name' is missing or not a string: name the template to render.")
        }

        var data: JSONObject = [:]
        if let dataValue = object["data"], !dataValue.isNull {
            guard let dataObject = dataValue.objectValue else {
                throw .wrongType("template.data", expected: "an object", actual: describe(dataValue))
            }
            data = dataObject
        }
        return Template(name: name, data: data)
    }
}
