/// Builds the syntax tree from tokens, matching each `{{/name}}` to its `{{#name}}`.
struct TemplateParser {
    let templateName: String
    let tokens: [TemplateToken]

    /// A block whose closing tag has not been reached yet.
    private struct OpenBlock {
        var openTag: Tag
        var name: String
        var helper: BlockHelper
        var argument: PathExpression
        var isInverted: Bool
        var program: [TemplateNode] = []
        var inverse: [TemplateNode] = []
        var elseTag: Tag?
        /// True for the block that `{{else if x}}` opens, which ends with its parent's `{{/if}}`.
        var isChained = false
    }

    func parse() throws(TemplateError) -> [TemplateNode] {
        var topLevel: [TemplateNode] = []
        var openBlocks: [OpenBlock] = []

        func append(_ node: TemplateNode) {
            guard var block = openBlocks.popLast() else {
                topLevel.append(node)
                return
            }
            if block.elseTag == nil {
                block.program.append(node)
            } else {
                block.inverse.append(node)
            }
            openBlocks.append(block)
        }

        for token in tokens {
            switch token {
            case .text(let text):
                if !text.value.isEmpty { append(.text(text.value)) }

            case .tag(let tag):
                switch tag.kind {
                case .comment:
                    break
                case .escapedValue, .unescapedValue:
                    append(.value(try valuePath(of: tag), escaped: tag.kind == .escapedValue))
                case .blockOpen, .inverseOpen:
                    openBlocks.append(try openBlock(for: tag))
                case .elseSeparator:
                    guard var block = openBlocks.popLast() else {
                        throw error("{{else}} is outside any block", at: tag)
                    }
                    if block.elseTag != nil {
                        throw error("\(block.openTag.displayName) already has an {{else}}", at: tag)
                    }
                    block.elseTag = tag
                    openBlocks.append(block)
                    if !tag.content.isEmpty {
                        var chained = try openBlock(for: tag)
                        chained.isChained = true
                        openBlocks.append(chained)
                    }
                case .blockClose:
                    guard var block = openBlocks.popLast() else {
                        throw error("\(tag.displayName) closes no open block", at: tag)
                    }
                    // `{{/if}}` also closes every block chained with `{{else if}}`, each of
                    // which is the `{{else}}` part of the block before it.
                    while block.isChained, var parent = openBlocks.popLast() {
                        parent.inverse.append(.block(finish(block)))
                        block = parent
                    }
                    guard tag.content == block.name else {
                        throw error("\(tag.displayName) closes \(block.openTag.displayName)", at: tag)
                    }
                    append(.block(finish(block)))
                }
            }
        }

        if let unclosed = openBlocks.last(where: { !$0.isChained }) {
            throw error("\(unclosed.openTag.displayName) is never closed", at: unclosed.openTag)
        }
        return topLevel
    }

    /// The path of `{{path}}`, rejecting helper calls because this engine has no such helpers.
    private func valuePath(of tag: Tag) throws(TemplateError) -> PathExpression {
        let words = try arguments(of: tag)
        guard let first = words.first else {
            throw error("the tag \(tag.displayName) is empty", at: tag)
        }
        guard words.count == 1 else {
            throw error("\(tag.displayName) calls the helper \"\(first)\", which does not exist", at: tag)
        }
        return try path(first, in: tag)
    }

    private func openBlock(for tag: Tag) throws(TemplateError) -> OpenBlock {
        let words = try arguments(of: tag)
        guard let name = words.first else {
            throw error("the tag \(tag.displayName) has no name", at: tag)
        }
        let parameters = Array(words.dropFirst())

        if let helper = BlockHelper(rawValue: name), helper != .section {
            guard parameters.count == 1 else {
                throw error("\(tag.displayName) requires exactly one argument", at: tag)
            }
            let argument = try path(parameters[0], in: tag)
            return OpenBlock(openTag: tag, name: name, helper: helper, argument: argument, isInverted: tag.kind == .inverseOpen)
        }

        guard parameters.isEmpty else {
            throw error("\(tag.displayName) calls the block helper \"\(name)\", which does not exist", at: tag)
        }
        let argument = try path(name, in: tag)
        return OpenBlock(openTag: tag, name: name, helper: .section, argument: argument, isInverted: tag.kind == .inverseOpen)
    }

    /// Turns a closed block into a node. An inverted block (`{{^name}}`) renders its body
    /// where a normal block renders its `{{else}}` part, so the two swap.
    private func finish(_ block: OpenBlock) -> BlockNode {
        let program = block.isInverted ? block.inverse : block.program
        let inverse = block.isInverted ? block.program : block.inverse
        return BlockNode(helper: block.helper, argument: block.argument, program: program, inverse: inverse)
    }

    /// Splits a tag's content into whitespace-separated words, rejecting the parts of the
    /// Handlebars grammar that this engine does not support yet.
    private func arguments(of tag: Tag) throws(TemplateError) -> [String] {
        let words = splitWords(tag.content)

        for word in words {
            if word.hasPrefix("\"") || word.hasPrefix("'") {
                throw error("string literals such as \(word) are not supported yet", at: tag)
            }
            if word == "as" || word.hasPrefix("|") {
                throw error("block parameters (as |name|) are not supported yet", at: tag)
            }
            if isLiteral(word) && word != words.first {
                throw error("literal arguments such as \(word) are not supported yet", at: tag)
            }
            if word.hasPrefix("(") {
                throw error("subexpressions are not supported yet", at: tag)
            }
            if word.contains("=") {
                throw error("hash arguments such as \(word) are not supported yet", at: tag)
            }
        }
        return words
    }

    private func path(_ text: String, in tag: Tag) throws(TemplateError) -> PathExpression {
        do {
            return try PathExpression(parsing: text)
        } catch {
            throw self.error(error.reason, at: tag)
        }
    }

    private func error(_ reason: String, at tag: Tag) -> TemplateError {
        TemplateError(templateName: templateName, line: tag.location.line, column: tag.location.column, reason: reason)
    }
}

/// Returns whether handlebars.js reads `word` as a literal (a number, `true`, `false`, `null` or
/// `undefined`) when it is a helper's argument.
private func isLiteral(_ word: String) -> Bool {
    if ["true", "false", "null", "undefined"].contains(word) { return true }
    let digits = word.hasPrefix("-") ? word.dropFirst() : Substring(word)
    return digits.first?.isNumber == true && digits.allSatisfy { $0.isNumber || $0 == "." }
}

/// Splits tag content into words at whitespace, except inside `[literal]` path segments, whose
/// spaces belong to the word.
private func splitWords(_ content: String) -> [String] {
    var words: [String] = []
    var word = String.UnicodeScalarView()
    var isInLiteral = false

    for scalar in content.unicodeScalars {
        if isInLiteral {
            isInLiteral = scalar != "]"
        } else if scalar == "[" {
            isInLiteral = true
        } else if isJavaScriptWhitespace(scalar) {
            if !word.isEmpty { words.append(String(word)) }
            word = String.UnicodeScalarView()
            continue
        }
        word.append(scalar)
    }
    if !word.isEmpty { words.append(String(word)) }
    return words
}
