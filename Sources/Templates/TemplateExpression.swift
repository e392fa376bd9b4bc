import DocumentStore

/// A value in a tag: a path, a literal, or a call of the `lookup` helper.
indirect enum TemplateExpression: Sendable, Equatable {
    case path(PathExpression)
    /// A string, number, `true`, `false` or `null` literal, or nil for `undefined`.
    case literal(JSONValue?)
    /// `lookup object key`, written as a tag (`{{lookup a b}}`) or a subexpression (`(lookup a b)`).
    case lookup(object: TemplateExpression, key: TemplateExpression)
}

/// A `key=value` argument of a helper or partial.
struct HashArgument: Sendable, Equatable {
    var key: String
    var value: TemplateExpression
}

/// The parts of a tag's content: the name, the positional arguments and the hash arguments,
/// as the handlebars.js 4.7 grammar splits `name param… key=value…`.
struct TagCall: Sendable, Equatable {
    var name: TagWord
    var parameters: [TemplateExpression]
    var hash: [HashArgument]
}

/// A word of a tag before it is known to be a helper's name or a value.
indirect enum TagWord: Sendable, Equatable {
    /// A path or a helper name, as written, such as `each`, `person.name` or `../title`.
    case name(String)
    case literal(JSONValue?, written: String)
    case subexpression(TagCall)

    var written: String {
        switch self {
        case .name(let text): return text
        case .literal(_, let written): return written
        case .subexpression(let call): return "(\(call.name.written) …)"
        }
    }
}
