import DocumentStore
import Templates
import Testing

/// A template, the JSON context it is rendered with, and the exact output handlebars.js 4.7
/// produces for them.
struct RenderCase: Sendable, CustomTestStringConvertible {
    var source: String
    var context: String
    var expected: String
    /// Partial templates by name, for `{{> name}}`.
    var partials: [String: String]

    init(_ source: String, _ context: String, _ expected: String, partials: [String: String] = [:]) {
        self.source = source
        self.context = context
        self.expected = expected
        self.partials = partials
    }

    var testDescription: String { "\(source.debugDescription) with \(context)" }

    /// Compiles and renders the case.
    func render() throws -> String {
        let template = try Template(name: "test", source: source)
        var compiledPartials: [String: Template] = [:]
        for (name, partialSource) in partials {
            compiledPartials[name] = try Template(name: name, source: partialSource)
        }
        return try template.render(try JSONValue(parsing: context), partials: compiledPartials)
    }
}
