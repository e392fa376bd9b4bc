/// Removes the whitespace that handlebars.js 4.7 removes around tags.
///
/// `~` strips all whitespace, line breaks included, on its side of a tag. A block tag,
/// `{{else}}`, comment or partial alone on its line ("standalone") loses the indentation before
/// it and the line break after it, and a standalone partial is indented by that indentation.
/// Which tags are standalone is decided from the original text. The steps run in handlebars.js's
/// order, depth first: a block's inner programs first, then the block's own `~` marks, then the
/// standalone rules of the program around it, because that order decides some results.
func applyWhitespaceControl(to tokens: inout [TemplateToken]) {
    var control = WhitespaceControl(tokens: tokens)
    control.visit(buildWhitespaceTree(tokens), isRoot: true)
    tokens = control.tokens
}

/// The strip marks and standalone candidacy of one node, as handlebars.js's visitor returns them.
private struct NodeStrip {
    var open = false
    var close = false
    var openStandalone = false
    var closeStandalone = false
    var inlineStandalone = false
}

private struct WhitespaceControl {
    var tokens: [TemplateToken]

    mutating func visit(_ program: WhitespaceProgram, isRoot: Bool) {
        let body = program.body
        for index in body.indices {
            let strip: NodeStrip
            var block: WhitespaceBlock?
            var partialTokenIndex: Int?
            switch body[index] {
            case .text:
                continue
            case .tag(let tokenIndex, let tagStrip, let isInlineStandalone):
                strip = NodeStrip(open: tagStrip.open, close: tagStrip.close, inlineStandalone: isInlineStandalone)
                if case .tag(let tag) = tokens[tokenIndex], tag.kind == .partial { partialTokenIndex = tokenIndex }
            case .block(let visited):
                strip = visitBlock(visited)
                block = visited
            }

            let isPrevWhitespace = self.isPrevWhitespace(body, before: index, isRoot: isRoot)
            let isNextWhitespace = self.isNextWhitespace(body, after: index, isRoot: isRoot)

            if strip.close { omitRight(body, after: index, multiple: true) }
            if strip.open { omitLeft(body, before: index, multiple: true) }

            if strip.inlineStandalone && isPrevWhitespace && isNextWhitespace {
                omitRight(body, after: index)
                if omitLeft(body, before: index), let partialTokenIndex {
                    recordIndentation(ofTextAt: index - 1, in: body, forPartialAt: partialTokenIndex)
                }
            }
            if let block, strip.openStandalone && isPrevWhitespace, let inner = block.program ?? block.inverse {
                omitRight(inner.body, after: nil)
                omitLeft(body, before: index)
            }
            if let block, strip.closeStandalone && isNextWhitespace, let inner = block.inverse ?? block.program {
                omitRight(body, after: index)
                omitLeft(inner.body, before: nil)
            }
        }
    }

    /// Handles a block's programs, then its own `~` marks and `{{else}}` line, and returns its
    /// strip for the program around it.
    private mutating func visitBlock(_ block: WhitespaceBlock) -> NodeStrip {
        if let program = block.program { visit(program, isRoot: false) }
        if let inverse = block.inverse { visit(inverse, isRoot: false) }

        guard let program = block.program ?? block.inverse else { return NodeStrip() }
        let inverse = block.program != nil ? block.inverse : nil
        var firstInverse = inverse
        var lastInverse = inverse
        if let inverse, inverse.isChained {
            firstInverse = chainedBlock(of: inverse)?.program
            while let chained = lastInverse, chained.isChained {
                lastInverse = chainedBlock(of: chained)?.program
            }
        }

        let strip = NodeStrip(
            open: block.openStrip.open, close: block.closeStrip?.close ?? false,
            openStandalone: isNextWhitespace(program.body, after: nil, isRoot: false),
            closeStandalone: isPrevWhitespace((firstInverse ?? program).body, before: nil, isRoot: false))

        if block.openStrip.close { omitRight(program.body, after: nil, multiple: true) }

        if let firstInverse {
            let inverseStrip = block.inverseStrip ?? TagStrip()
            if inverseStrip.open { omitLeft(program.body, before: nil, multiple: true) }
            if inverseStrip.close { omitRight(firstInverse.body, after: nil, multiple: true) }
            if block.closeStrip?.open == true, let lastInverse { omitLeft(lastInverse.body, before: nil, multiple: true) }

            if isPrevWhitespace(program.body, before: nil, isRoot: false) && isNextWhitespace(firstInverse.body, after: nil, isRoot: false) {
                omitLeft(program.body, before: nil)
                omitRight(firstInverse.body, after: nil)
            }
        } else if block.closeStrip?.open == true {
            omitLeft(program.body, before: nil, multiple: true)
        }
        return strip
    }

    private func chainedBlock(of program: WhitespaceProgram) -> WhitespaceBlock? {
        guard case .block(let block) = program.body.last else { return nil }
        return block
    }

    // MARK: - handlebars.js's tests and strips

    /// Returns whether the text before node `index` (or at the end of `body` when `index` is nil)
    /// ends a line: its trailing whitespace contains a line break. At the start of the root
    /// program, whitespace alone is enough, and no text at all counts only there.
    private func isPrevWhitespace(_ body: [WhitespaceNode], before index: Int?, isRoot: Bool) -> Bool {
        let position = index ?? body.count
        guard position - 1 >= 0 else { return isRoot }
        guard case .text(let tokenIndex) = body[position - 1] else { return false }

        let original = textToken(tokenIndex).original
        let trailing = original.unicodeScalars.reversed().prefix(while: isJavaScriptWhitespace)
        let hasSibling = position - 2 >= 0
        if trailing.contains("\n") { return true }
        return !hasSibling && isRoot && trailing.count == original.unicodeScalars.count
    }

    /// Returns whether the text after node `index` (or at the start of `body` when `index` is
    /// nil) starts with the rest of a blank line, the mirror of `isPrevWhitespace`.
    private func isNextWhitespace(_ body: [WhitespaceNode], after index: Int?, isRoot: Bool) -> Bool {
        let position = (index ?? -1) + 1
        guard position < body.count else { return isRoot }
        guard case .text(let tokenIndex) = body[position] else { return false }

        let original = textToken(tokenIndex).original
        let leading = original.unicodeScalars.prefix(while: isJavaScriptWhitespace)
        let hasSibling = position + 1 < body.count
        if leading.contains("\n") { return true }
        return !hasSibling && isRoot && leading.count == original.unicodeScalars.count
    }

    /// Strips the start of the text after node `index` (the first node when nil): all
    /// whitespace when `multiple`, else spaces and tabs and one line break, once.
    private mutating func omitRight(_ body: [WhitespaceNode], after index: Int?, multiple: Bool = false) {
        let position = index.map { $0 + 1 } ?? 0
        guard position < body.count, case .text(let tokenIndex) = body[position] else { return }
        var text = textToken(tokenIndex)
        guard multiple || !text.isStartStripped else { return }

        let original = text.value
        var scalars = Substring(original).unicodeScalars[...]
        if multiple {
            scalars = scalars.drop(while: isJavaScriptWhitespace)
        } else {
            scalars = scalars.drop { $0 == " " || $0 == "\t" }
            if scalars.first == "\r" { scalars = scalars.dropFirst() }
            if scalars.first == "\n" { scalars = scalars.dropFirst() }
        }
        text.value = String(String.UnicodeScalarView(scalars))
        text.isStartStripped = text.value != original
        tokens[tokenIndex] = .text(text)
    }

    /// Strips the end of the text before node `index` (the last node when nil): all whitespace
    /// when `multiple`, else spaces and tabs, once. Returns whether anything was removed.
    @discardableResult
    private mutating func omitLeft(_ body: [WhitespaceNode], before index: Int?, multiple: Bool = false) -> Bool {
        let position = (index ?? body.count) - 1
        guard position >= 0, case .text(let tokenIndex) = body[position] else { return false }
        var text = textToken(tokenIndex)
        guard multiple || !text.isEndStripped else { return false }

        let original = text.value
        var scalars = original.unicodeScalars
        while let last = scalars.last, multiple ? isJavaScriptWhitespace(last) : (last == " " || last == "\t") {
            scalars.removeLast()
        }
        text.value = String(scalars)
        text.isEndStripped = text.value != original
        tokens[tokenIndex] = .text(text)
        return text.isEndStripped
    }

    /// Stores in a partial tag the spaces and tabs that end the original text before it.
    private mutating func recordIndentation(ofTextAt position: Int, in body: [WhitespaceNode], forPartialAt partialIndex: Int) {
        guard position >= 0, case .text(let tokenIndex) = body[position], case .tag(var tag) = tokens[partialIndex] else { return }
        let indentation = textToken(tokenIndex).original.unicodeScalars.reversed().prefix { $0 == " " || $0 == "\t" }
        tag.indentation = String(String.UnicodeScalarView(indentation.reversed()))
        tokens[partialIndex] = .tag(tag)
    }

    private func textToken(_ index: Int) -> TextToken {
        guard case .text(let text) = tokens[index] else { preconditionFailure("token \(index) is not text") }
        return text
    }
}
