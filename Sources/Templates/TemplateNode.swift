/// One node of a compiled template's syntax tree.
indirect enum TemplateNode: Sendable, Equatable {
    /// Literal text, copied to the output as is.
    case text(String)
    /// `{{path}}` when `escaped`, `{{{path}}}` or `{{& path}}` otherwise.
    case value(PathExpression, escaped: Bool)
    case block(BlockNode)
}

/// A block such as `{{#each items}}…{{else}}…{{/each}}`.
struct BlockNode: Sendable, Equatable {
    var helper: BlockHelper
    /// The helper's argument, or for a Mustache-style section (`{{#name}}`) the section's name.
    var argument: PathExpression
    /// The nodes rendered when the helper calls its main block.
    var program: [TemplateNode]
    /// The nodes after `{{else}}`, or the body of an inverted block such as `{{^name}}`.
    var inverse: [TemplateNode]
}

/// The built-in block helpers of handlebars.js, plus the Mustache-style section it falls back
/// to (its `blockHelperMissing` helper) when a block's name is not a helper.
enum BlockHelper: String, Sendable, Equatable {
    case `if`
    case unless
    case each
    case with
    case section
}
