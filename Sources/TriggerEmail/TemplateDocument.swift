import DocumentStore
import Templates

/// A document of the templates collection, keyed by the template's name: Handlebars sources
/// for `subject`, `text`, `html` and `amp`, `attachments` whose string values are templates too,
/// and `partial: true` for a partial that other templates include with `{{> name}}`.
struct TemplateDocument: Sendable {
    /// The fields that hold one Handlebars source each.
    enum Field: String, CaseIterable, Sendable {
        case subject
        case text
        case html
        case amp

        /// Whether `{{value}}` is HTML-escaped in this field: in `html` and `amp` only, so a
        /// subject or a plain-text body shows `&` and `<` as written.
        var escapesHTML: Bool {
            self == .html || self == .amp
        }
    }

    var name: String
    var sources: [Field: String]
    var attachments: [JSONValue]?
    var isPartial: Bool

    init(name: String, fields: JSONObject) throws(MailDocumentError) {
        self.name = name
        var sources: [Field: String] = [:]
        for field in Field.allCases {
            guard let value = fields[field.rawValue], !value.isNull else { continue }
            guard let source = value.stringValue else {
                throw MailDocumentError(
                    "Template '\(name)' has a field '\(field.rawValue)' that must be a string, but it is \(value.typeDescription).")
            }
            sources[field] = source
        }
        self.sources = sources

        if let value = fields["attachments"], !value.isNull {
            guard let elements = value.arrayValue else {
                throw MailDocumentError(
                    "Template '\(name)' has a field 'attachments' that must be an array of attachment objects, but it is \(value.typeDescription).")
            }
            self.attachments = elements
        }

        switch fields["partial"] {
        case nil, .null?, .bool(false)?:
            isPartial = false
        case .bool(true)?:
            isPartial = true
        case let other?:
            throw MailDocumentError("Template '\(name)' has a field 'partial' that must be true or false, but it is \(other.typeDescription).")
        }
    }
}

/// Checks for `trigger-email templates set` that a templates collection document has the
/// expected field types and that every source compiles, so that a mistake is reported when the
/// template is written rather than when a message uses it.
public func checkTemplateDocument(name: String, fields: JSONObject) throws(MailDocumentError) {
    do {
        try DocumentID.validate(name)
    } catch {
        throw MailDocumentError("\"\(name)\" cannot name a template: template names use 1 to 128 letters, digits, '-' or '_'.")
    }
    let document = try TemplateDocument(name: name, fields: fields)

    for (field, source) in document.sources {
        try compileForCheck(name: "\(name).\(field.rawValue)", source: source)
    }
    for (index, attachment) in (document.attachments ?? []).enumerated() {
        try checkAttachmentStrings(attachment, path: "\(name).attachments[\(index)]")
    }
}

private func checkAttachmentStrings(_ value: JSONValue, path: String) throws(MailDocumentError) {
    switch value {
    case .string(let source):
        try compileForCheck(name: path, source: source)
    case .array(let elements):
        for (index, element) in elements.enumerated() {
            try checkAttachmentStrings(element, path: "\(path)[\(index)]")
        }
    case .object(let fields):
        for (key, element) in fields {
            try checkAttachmentStrings(element, path: "\(path).\(key)")
        }
    case .null, .bool, .number:
        break
    }
}

private func compileForCheck(name: String, source: String) throws(MailDocumentError) {
    let template: Template
    do {
        template = try Template(name: name, source: source)
    } catch {
        throw MailDocumentError(error.description)
    }

    // A partial is a document of the templates collection, so its name must be a document ID.
    for partialName in template.partialNames.sorted() where (try? DocumentID.validate(partialName)) == nil {
        throw MailDocumentError(
            "Template \"\(name)\" includes the partial \"\(partialName)\", which cannot be a template's name: template names use 1 to 128 letters, digits, '-' or '_'.")
    }
}
