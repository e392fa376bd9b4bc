/// A name such as `person.name`, `this`, `../title` or `@index`, resolved against a context.
struct PathExpression: Sendable, Equatable {
    /// The path as written in the template, used to match `{{/name}}` to `{{#name}}`.
    var original: String
    /// How many `../` steps lead out of the current context before the lookup starts.
    var depth: Int
    /// True for data variables (`@index`, `@key`, `@first`, `@last`, `@root`).
    var isData: Bool
    /// The property names to follow, with `this` and `.` removed, so `this` alone is empty.
    var parts: [String]
}

/// The reason a path is invalid, completed by the parser with the template's name and position.
struct PathSyntaxError: Error {
    var reason: String
}

extension PathExpression {
    /// Parses a path with the grammar of the handlebars.js 4.7 lexer: segments separated by `.`
    /// or `/`, `[literal]` segments that may contain any character but `]`, and `this`, `.` and
    /// `..` allowed only before every other segment.
    init(parsing text: String) throws(PathSyntaxError) {
        var scalars = Substring(text).unicodeScalars[...]
        var isData = false
        if scalars.first == "@" {
            isData = true
            scalars = scalars.dropFirst()
        }

        var segments: [(text: String, isLiteral: Bool)] = []
        while true {
            if scalars.first == "[" {
                guard let close = scalars.firstIndex(of: "]") else {
                    throw PathSyntaxError(reason: "the path \"\(text)\" has a \"[\" without \"]\"")
                }
                let literal = scalars[scalars.index(after: scalars.startIndex)..<close]
                segments.append((String(String.UnicodeScalarView(literal)), true))
                scalars = scalars[scalars.index(after: close)...]
            } else {
                let segment = try Self.scanSegment(&scalars, in: text)
                segments.append((segment, false))
            }

            guard let separator = scalars.first else { break }
            guard separator == "." || separator == "/" else {
                throw PathSyntaxError(reason: "the path \"\(text)\" contains an invalid character \"\(separator)\"")
            }
            scalars = scalars.dropFirst()
            if scalars.isEmpty {
                throw PathSyntaxError(reason: "the path \"\(text)\" ends with \"\(separator)\"")
            }
        }

        var depth = 0
        var parts: [String] = []
        for segment in segments {
            let isContextReference = !segment.isLiteral && [".", "..", "this"].contains(segment.text)
            if isContextReference {
                // handlebars.js rejects `foo.this` and `foo/..` because context references come first.
                guard parts.isEmpty else {
                    throw PathSyntaxError(reason: "invalid path \"\(text)\"")
                }
                if segment.text == ".." { depth += 1 }
            } else {
                parts.append(segment.text)
            }
        }

        if isData && parts.isEmpty {
            throw PathSyntaxError(reason: "the data variable \"\(text)\" has no name")
        }
        self.init(original: text, depth: depth, isData: isData, parts: parts)
    }

    /// Reads one plain segment: `..`, `.`, or a run of identifier characters.
    private static func scanSegment(
        _ scalars: inout Substring.UnicodeScalarView.SubSequence, in text: String
    ) throws(PathSyntaxError) -> String {
        let isSeparatorOrEnd: (Unicode.Scalar?) -> Bool = { $0 == nil || $0 == "." || $0 == "/" }

        if scalars.starts(with: "..".unicodeScalars), isSeparatorOrEnd(scalars.dropFirst(2).first) {
            scalars = scalars.dropFirst(2)
            return ".."
        }
        if scalars.first == ".", isSeparatorOrEnd(scalars.dropFirst().first) {
            scalars = scalars.dropFirst()
            return "."
        }

        let identifier = scalars.prefix(while: isIdentifierScalar)
        guard !identifier.isEmpty else {
            let found = scalars.first.map { "\"\($0)\"" } ?? "the end"
            throw PathSyntaxError(reason: "the path \"\(text)\" has an empty segment before \(found)")
        }
        scalars = scalars.dropFirst(identifier.count)
        return String(String.UnicodeScalarView(identifier))
    }
}

/// Returns whether `scalar` may appear in an identifier: anything except whitespace and the punctuation
/// that the handlebars.js lexer excludes from its ID token.
func isIdentifierScalar(_ scalar: Unicode.Scalar) -> Bool {
    if isJavaScriptWhitespace(scalar) { return false }
    return !"!\"#%&'()*+,./;<=>@[\\]^`{|}~".unicodeScalars.contains(scalar)
}

/// Returns whether `scalar` matches JavaScript's `\s`, which handlebars.js uses for whitespace.
func isJavaScriptWhitespace(_ scalar: Unicode.Scalar) -> Bool {
    scalar == "\u{FEFF}" || scalar.properties.isWhitespace
}
