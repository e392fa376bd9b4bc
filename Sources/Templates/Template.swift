import DocumentStore

/// A compiled Handlebars template, rendered against a JSON context.
///
/// The engine follows handlebars.js 4.7: `{{path}}` output is HTML-escaped, `{{{path}}}` and
/// `{{& path}}` are not, the built-in helpers `if`, `unless`, `each`, `with` and `lookup`
/// behave as there, and `{{> name}}` renders a partial. Names are looked up only in the
/// current context, as handlebars.js does without its `compat` option, so `{{../name}}` is
/// needed to reach an outer context.
///
/// Not supported: custom helpers, block parameters (`as |item|`), partial blocks
/// (`{{#> name}}`), inline partials and decorators. A template using one of them fails to
/// compile with a ``TemplateError`` instead of rendering differently.
public struct Template: Sendable {
    /// The name used in error messages, such as a document ID in the templates collection.
    public let name: String
    let nodes: [TemplateNode]

    /// Compiles `source`, throwing a ``TemplateError`` with the line and column of the first
    /// syntax error.
    public init(name: String, source: String) throws(TemplateError) {
        self.name = name
        var tokens = try TemplateScanner(templateName: name, source: source).scan()
        try checkBlockNesting(tokens, templateName: name)
        applyWhitespaceControl(to: &tokens)
        self.nodes = try TemplateParser(templateName: name, tokens: tokens).parse()
    }

    /// Renders the template with `context` as `this` and `@root`. `{{> name}}` renders
    /// `partials[name]`; a missing partial, a partial nested deeper than
    /// ``TemplateLimits/maximumPartialDepth`` or output longer than
    /// ``TemplateLimits/maximumOutputBytes`` throws.
    ///
    /// With `escapingHTML` false, `{{value}}` is not escaped either, as handlebars.js renders
    /// with its `noEscape` option, which suits a subject or a plain-text body.
    public func render(
        _ context: JSONValue, partials: [String: Template] = [:], escapingHTML: Bool = true
    ) throws(TemplateRenderError) -> String {
        var renderer = TemplateRenderer(root: context, partials: partials, escapesHTML: escapingHTML)
        try renderer.render(nodes, of: self, in: RenderScope(root: context))
        return renderer.output
    }

    /// The names of the partials that `{{> name}}` tags name, so a caller can load them
    /// before rendering. Partials that those partials use are not included.
    public var partialNames: Set<String> {
        var names: Set<String> = []
        collectPartialNames(in: nodes, into: &names)
        return names
    }

    /// Whether a tag such as `{{> (lookup . "layout")}}` computes a partial's name while
    /// rendering, so ``partialNames`` cannot list it.
    public var usesDynamicPartialNames: Bool {
        containsDynamicPartial(nodes)
    }
}

/// Bounds that keep a template from exhausting memory or the stack on hostile input.
public enum TemplateLimits {
    /// The deepest chain of partials calling partials, which stops a partial that includes
    /// itself. handlebars.js has no such limit and overflows its stack instead.
    public static let maximumPartialDepth = 64
    /// The deepest nesting of blocks in one template. Compiling and rendering recurse once per
    /// level, so without a bound a template of thousands of nested blocks overflows the stack.
    public static let maximumBlockDepth = 100
    /// The maximum number of nodes one rendering visits, counting each pass of a loop and each
    /// partial call. Loops over deep data, or partials calling each other twice per level, then
    /// end with an error instead of running for days.
    public static let maximumRenderSteps = 2_000_000
    /// The largest output, in UTF-8 bytes, that one rendering may produce.
    public static let maximumOutputBytes = 16 * 1024 * 1024
}

private func collectPartialNames(in nodes: [TemplateNode], into names: inout Set<String>) {
    for node in nodes {
        switch node {
        case .partial(let partial):
            if case .fixed(let name) = partial.name { names.insert(name) }
        case .block(let block):
            collectPartialNames(in: block.program, into: &names)
            collectPartialNames(in: block.inverse, into: &names)
        case .text, .value:
            break
        }
    }
}

private func containsDynamicPartial(_ nodes: [TemplateNode]) -> Bool {
    nodes.contains { node in
        switch node {
        case .partial(let partial):
            if case .dynamic = partial.name { return true }
            return false
        case .block(let block):
            return containsDynamicPartial(block.program) || containsDynamicPartial(block.inverse)
        case .text, .value:
            return false
        }
    }
}

/// Rejects a template whose blocks nest deeper than ``TemplateLimits/maximumBlockDepth``,
/// before any step that recurses over the nesting.
private func checkBlockNesting(_ tokens: [TemplateToken], templateName: String) throws(TemplateError) {
    // The levels each open block adds: one, plus one per `{{else if}}`, which opens a chained
    // block that the same `{{/if}}` closes.
    var openLevels: [Int] = []
    var depth = 0
    for token in tokens {
        guard case .tag(let tag) = token else { continue }
        switch tag.kind {
        case .blockOpen, .inverseOpen:
            openLevels.append(1)
            depth += 1
        case .elseSeparator where !tag.content.isEmpty && !openLevels.isEmpty:
            openLevels[openLevels.count - 1] += 1
            depth += 1
        case .blockClose:
            depth -= openLevels.popLast() ?? 0
        default:
            continue
        }
        if depth > TemplateLimits.maximumBlockDepth {
            throw TemplateError(
                templateName: templateName, line: tag.location.line, column: tag.location.column,
                reason: "blocks are nested more than \(TemplateLimits.maximumBlockDepth) deep")
        }
    }
}
