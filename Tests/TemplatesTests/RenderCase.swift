import DocumentStore
import Templates
import Testing

/// A template, the JSON context it is rendered with, and the exact output handlebars.js 4.7
/// produces for them.
struct RenderCase: Sendable, CustomTestStringConvertible {
    var source: String
    var context: String
    var expected: String

    init(_ source: String, _ context: String, _ expected: String) {
        self.source = source
        self.context = context
        self.expected = expected
    }

    var testDescription: String { "\(source.debugDescription) with \(context)" }

    /// Compiles and renders the case.
    func render() throws -> String {
        let template = try Template(name: "test", source: source)
        return template.render(try JSONValue(parsing: context))
    }
}
