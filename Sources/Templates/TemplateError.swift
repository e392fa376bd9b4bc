/// A template that cannot be compiled, with the place in its source where compiling stopped.
///
/// Lines and columns count from 1, and a column counts Unicode scalars from the start of the line.
public struct TemplateError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The name the template was compiled under, such as a document ID in the templates collection.
    public var templateName: String
    public var line: Int
    public var column: Int
    /// The fault, as a clause without a final period, such as `{{/if}} closes {{#each}}`.
    public var reason: String

    public init(templateName: String, line: Int, column: Int, reason: String) {
        self.templateName = templateName
        self.line = line
        self.column = column
        self.reason = reason
    }

    public var description: String {
        "Template \"\(templateName)\" has a syntax error at line \(line), column \(column): \(reason)."
    }
}
