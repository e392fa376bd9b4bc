import DocumentStore

/// A compiled Handlebars template, rendered against a JSON context.
///
/// The engine follows handlebars.js 4.7: `{{path}}` output is HTML-escaped, `{{{path}}}` and
/// `{{& path}}` are not, and the built-in block helpers `if`, `unless`, `each` and `with` behave
/// as there. Names are looked up only in the current context, as handlebars.js does without its
/// `compat` option, so `{{../name}}` is needed to reach an outer context.
///
/// Not yet supported: partials, custom helpers, block parameters
/// (`as |item|`), hash arguments and literal arguments such as `{{#if true}}`. A template
/// using one of them fails to compile with a ``TemplateError`` instead of rendering differently.
public struct Template: Sendable {
    /// The name used in error messages, such as a document ID in the templates collection.
    public let name: String
    let nodes: [TemplateNode]

    /// Compiles `source`, throwing a ``TemplateError`` with the line and column of the first
    /// syntax error.
    public init(name: String, source: String) throws(TemplateError) {
        self.name = name
        var tokens = try TemplateScanner(templateName: name, source: source).scan()
        applyWhitespaceControl(to: &tokens)
        self.nodes = try TemplateParser(templateName: name, tokens: tokens).parse()
    }

    /// Renders the template with `context` as `this` and `@root`.
    public func render(_ context: JSONValue) -> String {
        var output = ""
        TemplateRenderer(root: context).render(nodes, in: RenderScope(root: context), into: &output)
        return output
    }
}
