/// Splits a template's source into text and tag tokens.
struct TemplateScanner {
    let templateName: String
    let scalars: [Unicode.Scalar]
    /// The position where each line starts, so a tag's line and column cost a binary search,
    /// not a scan from the start of a template that may be megabytes long.
    private let lineStarts: [Int]

    init(templateName: String, source: String) {
        self.templateName = templateName
        self.scalars = Array(source.unicodeScalars)
        var lineStarts = [0]
        for (index, scalar) in scalars.enumerated() where scalar == "\n" {
            lineStarts.append(index + 1)
        }
        self.lineStarts = lineStarts
    }

    func scan() throws(TemplateError) -> [TemplateToken] {
        var tokens: [TemplateToken] = []
        var text = String.UnicodeScalarView()
        var textStart = 0
        var position = 0

        while position < scalars.count {
            guard matches("{{", at: position) else {
                position += 1
                continue
            }

            // As in handlebars.js, `\{{` is literal text and `\\{{` is a backslash before a tag.
            let backslashes = countBackslashes(before: position, after: textStart)
            if backslashes == 1 {
                text.append(contentsOf: scalars[textStart..<position - 1])
                textStart = position
                position += 2
                continue
            }
            let textEnd = backslashes >= 2 ? position - 1 : position
            text.append(contentsOf: scalars[textStart..<textEnd])
            if !text.isEmpty {
                tokens.append(.text(TextToken(String(text))))
                text = String.UnicodeScalarView()
            }

            let (tag, end) = try scanTag(at: position)
            tokens.append(.tag(tag))
            position = end
            textStart = end
        }

        text.append(contentsOf: scalars[textStart..<scalars.count])
        if !text.isEmpty {
            tokens.append(.text(TextToken(String(text))))
        }
        return tokens
    }

    /// Counts the backslashes, at most two, directly before `position` and not before `start`.
    private func countBackslashes(before position: Int, after start: Int) -> Int {
        var count = 0
        while count < 2, position - count - 1 >= start, scalars[position - count - 1] == "\\" {
            count += 1
        }
        return count
    }

    /// Reads the tag whose `{{` is at `start`, returning it and the position after its `}}`.
    private func scanTag(at start: Int) throws(TemplateError) -> (Tag, Int) {
        let location = self.location(of: start)
        var position = start + 2
        let stripsBefore = matches("~", at: position)
        if stripsBefore { position += 1 }

        if matches("!--", at: position) {
            return try scanLongComment(contentStart: position + 3, stripsBefore: stripsBefore, location: location)
        }

        if matches("{", at: position) {
            // `{{{name}}}`, written `{{~{name}~}}` with whitespace control.
            guard let close = firstIndex(ofAny: ["}}}", "}~}}"], from: position + 1) else {
                throw error("{{{ is not closed with }}}", at: location)
            }
            let stripsAfter = matches("}~}}", at: close)
            let tag = Tag(
                kind: .unescapedValue, content: trimmed(position + 1..<close),
                stripsBefore: stripsBefore, stripsAfter: stripsAfter, location: location)
            return (tag, close + (stripsAfter ? 4 : 3))
        }

        guard let close = firstIndex(ofAny: ["}}"], from: position) else {
            throw error("{{ is not closed with }}", at: location)
        }
        let stripsAfter = close > position && scalars[close - 1] == "~"
        let contentEnd = stripsAfter ? close - 1 : close
        let end = close + 2

        if matches("!", at: position) {
            // A short comment ends at the first `}}`; its text is ignored.
            let stripsAfterComment = close - 1 > position && scalars[close - 1] == "~"
            let tag = Tag(
                kind: .comment, content: "", stripsBefore: stripsBefore,
                stripsAfter: stripsAfterComment, location: location)
            return (tag, end)
        }

        let (kind, contentStart) = try classify(at: position, contentEnd: contentEnd, location: location)
        let content = contentStart <= contentEnd ? trimmed(contentStart..<contentEnd) : ""
        var tag = Tag(kind: kind, content: content, stripsBefore: stripsBefore, stripsAfter: stripsAfter, location: location)

        // `{{^}}` is another spelling of `{{else}}`.
        if kind == .inverseOpen && content.isEmpty {
            tag.kind = .elseSeparator
        }
        if kind == .escapedValue, let chained = chainedElseContent(content) {
            // `{{else}}`, or `{{else if other}}`, which opens a chained block.
            tag.kind = .elseSeparator
            tag.content = chained
        }
        return (tag, end)
    }

    /// Returns the kind of tag that the character after `{{` (and `~`) starts, and where the
    /// tag's content begins.
    private func classify(
        at position: Int, contentEnd: Int, location: SourceLocation
    ) throws(TemplateError) -> (Tag.Kind, Int) {
        guard position < contentEnd else { return (.escapedValue, position) }

        switch scalars[position] {
        case "#":
            if matches("#>", at: position) || matches("#*", at: position) {
                throw error("partial blocks ({{#> name}}) and decorators ({{#* name}}) are not supported", at: location)
            }
            return (.blockOpen, position + 1)
        case "^": return (.inverseOpen, position + 1)
        case "/": return (.blockClose, position + 1)
        case "&": return (.unescapedValue, position + 1)
        case ">": return (.partial, position + 1)
        case "*": throw error("decorators ({{* name}}) are not supported", at: location)
        default: return (.escapedValue, position)
        }
    }

    /// Returns what follows the word `else` when `content` starts with it, or nil otherwise.
    private func chainedElseContent(_ content: String) -> String? {
        guard content.hasPrefix("else") else { return nil }
        let rest = content.unicodeScalars.dropFirst(4)
        guard let first = rest.first else { return "" }
        guard isJavaScriptWhitespace(first) else { return nil }
        return String(String.UnicodeScalarView(rest.drop(while: isJavaScriptWhitespace)))
    }

    /// Reads `{{!-- … --}}`, which may contain `}}`, up to the first `--}}` or `--~}}`.
    private func scanLongComment(
        contentStart: Int, stripsBefore: Bool, location: SourceLocation
    ) throws(TemplateError) -> (Tag, Int) {
        guard let close = firstIndex(ofAny: ["--}}", "--~}}"], from: contentStart) else {
            throw error("{{!-- is not closed with --}}", at: location)
        }
        let stripsAfter = matches("--~}}", at: close)
        let tag = Tag(kind: .comment, content: "", stripsBefore: stripsBefore, stripsAfter: stripsAfter, location: location)
        return (tag, close + (stripsAfter ? 5 : 4))
    }

    private func matches(_ literal: String, at position: Int) -> Bool {
        var index = position
        for scalar in literal.unicodeScalars {
            guard index < scalars.count, scalars[index] == scalar else { return false }
            index += 1
        }
        return true
    }

    private func firstIndex(ofAny literals: [String], from start: Int) -> Int? {
        var position = start
        while position < scalars.count {
            if literals.contains(where: { matches($0, at: position) }) { return position }
            position += 1
        }
        return nil
    }

    private func string(_ range: Range<Int>) -> String {
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars[range])
        return String(text)
    }

    private func trimmed(_ range: Range<Int>) -> String {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, isJavaScriptWhitespace(scalars[lower]) { lower += 1 }
        while upper > lower, isJavaScriptWhitespace(scalars[upper - 1]) { upper -= 1 }
        return string(lower..<upper)
    }

    private func location(of position: Int) -> SourceLocation {
        // The last line start at or before `position`.
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= position {
                low = middle
            } else {
                high = middle - 1
            }
        }
        return SourceLocation(line: low + 1, column: position - lineStarts[low] + 1)
    }

    private func error(_ reason: String, at location: SourceLocation) -> TemplateError {
        TemplateError(templateName: templateName, line: location.line, column: location.column, reason: reason)
    }
}
