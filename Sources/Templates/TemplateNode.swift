/// One node of a compiled template's syntax tree.
indirect enum TemplateNode: Sendable, Equatable {
    /// Literal text, copied to the output as is.
    case text(String)
    /// `{{value}}` when `escaped`, `{{{value}}}` or `{{& value}}` otherwise.
    case value(TemplateExpression, escaped: Bool)
    case block(BlockNode)
    case partial(PartialNode)
}

/// A block such as `{{#each items}}…{{else}}…{{/each}}`.
struct BlockNode: Sendable, Equatable {
    var helper: BlockHelper
    /// The helper's argument, or for a Mustache-style section (`{{#name}}`) the section's name.
    var argument: TemplateExpression
    /// The `includeZero=…` argument of `if` and `unless`, which makes `0` count as true.
    var includeZero: TemplateExpression?
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

    /// The built-in helper called `name`, or nil when `name` names no helper, so a block with
    /// that name is a section.
    init?(helperNamed name: String) {
        guard let helper = BlockHelper(rawValue: name), helper != .section else { return nil }
        self = helper
    }
}

/// `{{> name context key=value}}`.
struct PartialNode: Sendable, Equatable {
    enum Name: Sendable, Equatable {
        /// A name written in the tag, such as `footer` in `{{> footer}}`.
        case fixed(String)
        /// A subexpression whose value is the name, such as `{{> (lookup . "layout")}}`.
        case dynamic(TemplateExpression)
    }

    var name: Name
    /// The partial's context, or nil to keep the caller's.
    var context: TemplateExpression?
    var hash: [HashArgument]
    /// The whitespace before a standalone `{{> name}}`, which handlebars.js puts before every
    /// line of the partial's output.
    var indentation: String
}
