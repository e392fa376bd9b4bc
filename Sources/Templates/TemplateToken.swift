/// A line and column in a template's source, both counted from 1.
struct SourceLocation: Sendable, Equatable {
    var line: Int
    var column: Int
}

/// A piece of a template's source: literal text or one `{{…}}` tag.
enum TemplateToken: Sendable, Equatable {
    case text(TextToken)
    case tag(Tag)
}

/// Literal text between tags. `value` starts as `original` and loses whitespace that
/// `~` and standalone tags strip, while the standalone rules keep looking at `original`.
struct TextToken: Sendable, Equatable {
    var original: String
    var value: String
    /// Whether leading whitespace was already stripped, so a standalone tag strips no more.
    var isStartStripped = false
    /// Whether trailing whitespace was already stripped, so a standalone tag strips no more.
    var isEndStripped = false

    init(_ text: String) {
        self.original = text
        self.value = text
    }
}

/// One `{{…}}` tag.
struct Tag: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case escapedValue
        case unescapedValue
        case comment
        case blockOpen
        case inverseOpen
        case blockClose
        case elseSeparator
        case partial
    }

    var kind: Kind
    /// The text between the delimiters, the kind character and `~`, trimmed of whitespace. For
    /// `{{else if x}}` it is the chained block's opening, `if x`.
    var content: String
    /// `{{~`: strips all whitespace before the tag.
    var stripsBefore: Bool
    /// `~}}`: strips all whitespace after the tag.
    var stripsAfter: Bool
    var location: SourceLocation
    /// For a standalone `{{> name}}`, the spaces and tabs before it on its line.
    var indentation = ""

    /// Whether a tag alone on its line removes that line from the output, as Mustache's
    /// standalone tags do and handlebars.js does for blocks, `{{else}}` and comments.
    var canStandAlone: Bool {
        switch kind {
        case .escapedValue, .unescapedValue: return false
        case .comment, .blockOpen, .inverseOpen, .blockClose, .elseSeparator, .partial: return true
        }
    }

    /// The tag as it could be written, such as `{{#each}}`, for error messages.
    var displayName: String {
        let name = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first.map(String.init) ?? ""
        switch kind {
        case .escapedValue: return "{{\(content)}}"
        case .unescapedValue: return "{{{\(content)}}}"
        case .comment: return "{{!}}"
        case .blockOpen: return "{{#\(name)}}"
        case .inverseOpen: return "{{^\(name)}}"
        case .blockClose: return "{{/\(name)}}"
        case .elseSeparator: return name.isEmpty ? "{{else}}" : "{{else \(name)}}"
        case .partial: return "{{> \(name)}}"
        }
    }
}
