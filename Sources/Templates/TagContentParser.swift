import DocumentStore

/// The reason a tag's content is invalid, completed by the parser with the template's name and position.
struct TagSyntaxError: Error {
    var reason: String
}

/// Splits a tag's content into its name, positional arguments and hash arguments, with the
/// lexical rules of handlebars.js 4.7. It reads string literals in double or single quotes,
/// number and keyword literals, `(…)` subexpressions, `key=value` pairs after the positional
/// arguments, and `[…]` path segments, which may contain spaces.
struct TagContentParser {
    private let scalars: [Unicode.Scalar]
    private var position = 0

    init(_ content: String) {
        self.scalars = Array(content.unicodeScalars)
    }

    /// Parses the whole content as one call, such as `each items` or `> footer title="Hi"`
    /// without the `>`.
    mutating func parseCall() throws(TagSyntaxError) -> TagCall? {
        skipWhitespace()
        guard position < scalars.count else { return nil }

        return try parseCall(closedBy: nil)
    }

    private mutating func parseCall(closedBy closing: Unicode.Scalar?) throws(TagSyntaxError) -> TagCall {
        let name = try parseWord()
        var parameters: [TagWord] = []
        var hash: [(key: String, value: TagWord)] = []

        while true {
            skipWhitespace()
            guard position < scalars.count else {
                if closing != nil {
                    throw TagSyntaxError(reason: "the subexpression \(name.written) is not closed with \")\"")
                }
                break
            }
            if scalars[position] == ")" {
                guard closing != nil else {
                    throw TagSyntaxError(reason: "\")\" closes no subexpression")
                }
                position += 1
                break
            }

            if let key = try parseHashKey() {
                skipWhitespace()
                guard position < scalars.count, scalars[position] != ")" else {
                    throw TagSyntaxError(reason: "the hash argument \(key)= has no value")
                }
                hash.append((key, try parseWord()))
                continue
            }
            guard hash.isEmpty else {
                throw TagSyntaxError(reason: "the argument \(try parseWord().written) follows a hash argument; write positional arguments before key=value pairs")
            }
            parameters.append(try parseWord())
        }

        return TagCall(
            name: name,
            parameters: try parameters.map { word throws(TagSyntaxError) in try expression(word) },
            hash: try hash.map { pair throws(TagSyntaxError) in HashArgument(key: pair.key, value: try expression(pair.value)) })
    }

    /// Reads `key=` when the next word is followed by `=`, leaving the position after `=`.
    private mutating func parseHashKey() throws(TagSyntaxError) -> String? {
        let start = position
        let word = scanPlainWord()
        var end = position
        while end < scalars.count, isJavaScriptWhitespace(scalars[end]) { end += 1 }

        guard !word.isEmpty, end < scalars.count, scalars[end] == "=" else {
            position = start
            return nil
        }
        guard word.unicodeScalars.allSatisfy(isIdentifierScalar) else {
            throw TagSyntaxError(reason: "the hash argument name \"\(word)\" is invalid")
        }
        position = end + 1
        return word
    }

    /// Reads one string literal, subexpression, or word.
    private mutating func parseWord() throws(TagSyntaxError) -> TagWord {
        let first = scalars[position]
        if first == "\"" || first == "'" {
            let text = try scanStringLiteral(quote: first)
            return .literal(.string(text), written: "\(first)\(text)\(first)")
        }
        if first == "(" {
            position += 1
            skipWhitespace()
            guard position < scalars.count, scalars[position] != ")" else {
                throw TagSyntaxError(reason: "the subexpression () is empty")
            }
            return .subexpression(try parseCall(closedBy: ")"))
        }

        let word = scanPlainWord()
        guard !word.isEmpty else {
            throw TagSyntaxError(reason: "unexpected \"\(first)\"")
        }
        return literalWord(word) ?? .name(word)
    }

    /// Reads up to whitespace, a parenthesis, `=` or a quote, keeping `[…]` segments whole.
    private mutating func scanPlainWord() -> String {
        var word = String.UnicodeScalarView()
        while position < scalars.count {
            let scalar = scalars[position]
            if scalar == "[" {
                let close = scalars[position...].firstIndex(of: "]") ?? scalars.count - 1
                word.append(contentsOf: scalars[position...close])
                position = close + 1
                continue
            }
            if isJavaScriptWhitespace(scalar) || "()=\"'".unicodeScalars.contains(scalar) { break }
            word.append(scalar)
            position += 1
        }
        return String(word)
    }

    /// Reads a quoted string; as in handlebars.js, a backslash escapes only the closing quote.
    private mutating func scanStringLiteral(quote: Unicode.Scalar) throws(TagSyntaxError) -> String {
        var text = String.UnicodeScalarView()
        position += 1
        while position < scalars.count {
            let scalar = scalars[position]
            if scalar == "\\", position + 1 < scalars.count, scalars[position + 1] == quote {
                text.append(quote)
                position += 2
                continue
            }
            position += 1
            if scalar == quote { return String(text) }
            text.append(scalar)
        }
        throw TagSyntaxError(reason: "the string literal \(quote)\(String(text)) is not closed with \(quote)")
    }

    private mutating func skipWhitespace() {
        while position < scalars.count, isJavaScriptWhitespace(scalars[position]) { position += 1 }
    }
}

/// Returns the literal that `word` is, if any: a number such as `-1.5`, `true`, `false`,
/// `null`, or `undefined`, as the handlebars.js lexer reads them.
func literalWord(_ word: String) -> TagWord? {
    switch word {
    case "true": return .literal(.bool(true), written: word)
    case "false": return .literal(.bool(false), written: word)
    case "null": return .literal(.null, written: word)
    case "undefined": return .literal(nil, written: word)
    default: break
    }

    var digits = Substring(word)
    if digits.first == "-" { digits = digits.dropFirst() }
    let parts = digits.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
    let isNumber = parts.allSatisfy { part in !part.isEmpty && part.allSatisfy { $0.isASCII && $0.isNumber } }
    guard isNumber, let number = Double(word) else { return nil }
    return .literal(.number(number), written: word)
}

/// Turns an argument into an expression, rejecting helpers other than `lookup` in subexpressions.
func expression(_ word: TagWord) throws(TagSyntaxError) -> TemplateExpression {
    switch word {
    case .literal(let value, _):
        return .literal(value)
    case .name(let text):
        do {
            return .path(try PathExpression(parsing: text))
        } catch {
            throw TagSyntaxError(reason: error.reason)
        }
    case .subexpression(let call):
        return try lookupExpression(call)
    }
}

/// Returns the `lookup object key` call that `call` must be.
func lookupExpression(_ call: TagCall) throws(TagSyntaxError) -> TemplateExpression {
    guard case .name("lookup") = call.name else {
        throw TagSyntaxError(reason: "the helper \"\(call.name.written)\" does not exist; the helpers are if, unless, each, with and lookup")
    }
    guard call.parameters.count == 2, call.hash.isEmpty else {
        throw TagSyntaxError(reason: "lookup requires exactly two arguments, an object and a key")
    }
    return .lookup(object: call.parameters[0], key: call.parameters[1])
}
