import DocumentStore
import Foundation
import Templates

/// Renders a mail document's `template` field from the templates collection.
///
/// Each message reads its template document and the partials it includes from the store, so
/// a changed template applies to the next message without a restart, in every process that
/// shares the store. Compiled templates are cached by their source text, so an unchanged
/// template is compiled once.
///
/// As in the Trigger Email extension, a partial document (`partial: true`) is one partial per
/// field: `{{> footer}}` in a template's `html` renders the `html` of the document `footer`, and
/// in its `text` renders footer's `text`. Attachment values use the partials' `text`.
final class MailTemplates: Sendable {
    private let store: any DocumentStore
    private let collection: String?
    private let cache = CompiledTemplateCache()

    init(store: any DocumentStore, collection: String?) {
        self.store = store
        self.collection = collection
    }

    /// Returns `message` with the fields that the template defines rendered over it. The
    /// message's attachments stay when the template has none.
    func render(
        _ request: MailDocument.Template, over message: MailDocument.Message?
    ) async throws -> MailDocument.Message {
        let template = try await loadTemplate(named: request.name)
        let context = JSONValue.object(request.data)
        var result = message ?? MailDocument.Message()

        for (field, source) in template.sources {
            let rendered = try await render(source, of: template.name, field: field, with: context)
            switch field {
            case .subject: result.subject = rendered
            case .text: result.text = rendered
            case .html: result.html = rendered
            case .amp: result.amp = rendered
            }
        }

        if let attachments = template.attachments, !attachments.isEmpty {
            var rendered: [JSONValue] = []
            for (index, attachment) in attachments.enumerated() {
                let path = "\(template.name).attachments[\(index)]"
                rendered.append(try await renderStrings(in: attachment, path: path, with: context))
            }
            result.attachments = .array(rendered)
        }
        return result
    }

    private func loadTemplate(named name: String) async throws -> TemplateDocument {
        guard let collection else {
            throw MailDocumentError(
                "The document names the template '\(name)', but no templates collection is configured: set TEMPLATES_COLLECTION.")
        }
        do {
            try DocumentID.validate(name)
        } catch {
            throw MailDocumentError(
                "Field 'template.name' is \"\(name)\", which cannot name a template: template names use 1 to 128 letters, digits, '-' or '_'.")
        }

        guard let document = try await store.get(name, from: collection) else {
            throw MailDocumentError(
                "Template '\(name)' is not found in the templates collection '\(collection)': add it, for example with `trigger-email templates set \(name) FILE`.")
        }
        return try TemplateDocument(name: name, fields: document.data)
    }

    /// Compiles and renders one source, with the partials it includes loaded for `field`.
    private func render(
        _ source: String, of templateName: String, field: TemplateDocument.Field, with context: JSONValue
    ) async throws -> String {
        let compiled = try cache.template(named: "\(templateName).\(field.rawValue)", source: source)
        let partials = try await loadPartials(for: compiled, field: field)
        return try renderCompiled(compiled, field: field, partials: partials, context: context)
    }

    /// Renders every string inside an attachment object as a template without HTML escaping,
    /// keeping numbers, booleans and the object's shape.
    private func renderStrings(in value: JSONValue, path: String, with context: JSONValue) async throws -> JSONValue {
        switch value {
        case .string(let source):
            let compiled = try cache.template(named: path, source: source)
            let partials = try await loadPartials(for: compiled, field: .text)
            return .string(try renderCompiled(compiled, field: .text, partials: partials, context: context))
        case .array(let elements):
            var rendered: [JSONValue] = []
            for (index, element) in elements.enumerated() {
                rendered.append(try await renderStrings(in: element, path: "\(path)[\(index)]", with: context))
            }
            return .array(rendered)
        case .object(let fields):
            var rendered: JSONObject = [:]
            for (key, element) in fields {
                rendered[key] = try await renderStrings(in: element, path: "\(path).\(key)", with: context)
            }
            return .object(rendered)
        case .null, .bool, .number:
            return value
        }
    }

    private func renderCompiled(
        _ template: Template, field: TemplateDocument.Field, partials: [String: Template], context: JSONValue
    ) throws -> String {
        do {
            return try template.render(context, partials: partials, escapingHTML: field.escapesHTML)
        } catch {
            guard let partialName = error.missingPartialName, let collection else {
                throw MailDocumentError("\(error)")
            }
            throw MailDocumentError(
                "\(error) A partial is a document '\(partialName)' in the templates collection '\(collection)' with partial: true and a '\(field.rawValue)' field.")
        }
    }

    /// Loads, for `field`, the partials that `template` includes and those they include in turn.
    /// A partial that is not in the store is left out, and rendering reports it only if a
    /// `{{> name}}` that names it is reached.
    private func loadPartials(for template: Template, field: TemplateDocument.Field) async throws -> [String: Template] {
        var partials: [String: Template] = [:]
        var pending = Array(template.partialNames)
        var checked: Set<String> = []
        var needsAllPartials = template.usesDynamicPartialNames

        while let name = pending.popLast() {
            guard checked.insert(name).inserted else { continue }
            guard let partial = try await loadPartial(named: name, field: field) else { continue }
            partials[name] = partial
            pending += partial.partialNames
            needsAllPartials = needsAllPartials || partial.usesDynamicPartialNames
        }

        if needsAllPartials {
            for (name, partial) in try await loadAllPartials(field: field) where partials[name] == nil {
                partials[name] = partial
            }
        }
        return partials
    }

    private func loadPartial(named name: String, field: TemplateDocument.Field) async throws -> Template? {
        guard let collection, (try? DocumentID.validate(name)) != nil else { return nil }
        guard let document = try await store.get(name, from: collection) else { return nil }
        return try compiledPartial(TemplateDocument(name: name, fields: document.data), field: field)
    }

    /// Loads every partial of the collection, for a template that computes partial names while
    /// it renders.
    private func loadAllPartials(field: TemplateDocument.Field) async throws -> [String: Template] {
        guard let collection else { return [:] }
        var partials: [String: Template] = [:]
        var pageToken: String?
        repeat {
            let page = try await store.list(collection, ListQuery(limit: 1000, pageToken: pageToken))
            // A document that is not a valid template, or does not compile, is left out. If a
            // dynamic name picks it, rendering reports the partial as not found.
            for document in page.documents {
                guard let partialDocument = try? TemplateDocument(name: document.id, fields: document.data) else { continue }
                partials[document.id] = try? compiledPartial(partialDocument, field: field)
            }
            pageToken = page.nextPageToken
        } while pageToken != nil
        return partials
    }

    private func compiledPartial(_ document: TemplateDocument, field: TemplateDocument.Field) throws -> Template? {
        guard document.isPartial, let source = document.sources[field] else { return nil }
        return try cache.template(named: "\(document.name).\(field.rawValue)", source: source)
    }
}

/// Compiled templates by name and source, shared by the deliveries that run at once.
private final class CompiledTemplateCache: @unchecked Sendable {
    private struct Key: Hashable {
        var name: String
        var source: String
    }

    /// The maximum number of entries. A full cache is emptied, which also drops the old sources
    /// of edited templates.
    private static let capacity = 1000

    private let lock = NSLock()
    private var templates: [Key: Template] = [:]

    /// Returns the compiled template, compiling `source` if this name and source are new.
    func template(named name: String, source: String) throws -> Template {
        let key = Key(name: name, source: source)
        if let cached = lock.withLock({ templates[key] }) { return cached }

        let compiled: Template
        do {
            compiled = try Template(name: name, source: source)
        } catch {
            throw MailDocumentError("\(error)")
        }

        lock.withLock {
            if templates.count >= Self.capacity { templates.removeAll() }
            templates[key] = compiled
        }
        return compiled
    }
}
