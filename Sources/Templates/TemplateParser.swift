/// Builds the syntax tree from tokens, matching each `{{/name}}` to its `{{#name}}`.
struct TemplateParser {
    let templateName: String
    let tokens: [TemplateToken]

    /// A block whose closing tag has not been reached yet.
    private struct OpenBlock {
        var openTag: Tag
        var name: String
        var helper: BlockHelper
        var argument: TemplateExpression
        var includeZero: TemplateExpression?
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
                    append(.value(try valueExpression(of: tag), escaped: tag.kind == .escapedValue))
                case .partial:
                    append(.partial(try partial(of: tag)))
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

    /// The expression of `{{value}}`: a path, or a call of `lookup`, the one helper that
    /// returns a value.
    private func valueExpression(of tag: Tag) throws(TemplateError) -> TemplateExpression {
        let call = try self.call(in: tag)
        if case .name("lookup") = call.name {
            return try converting(tag) { () throws(TagSyntaxError) in try lookupExpression(call) }
        }
        if case .name(let name) = call.name, BlockHelper(helperNamed: name) != nil {
            throw error("the block helper \"\(name)\" is called without #; write {{#\(name) …}}…{{/\(name)}}", at: tag)
        }
        guard call.parameters.isEmpty, call.hash.isEmpty else {
            throw error("\(tag.displayName) calls the helper \"\(call.name.written)\", which does not exist; the helpers are if, unless, each, with and lookup", at: tag)
        }
        guard case .name(let name) = call.name else {
            return literalNamePath(call.name)
        }
        return try converting(tag) { () throws(TagSyntaxError) in try expression(.name(name)) }
    }

    private func openBlock(for tag: Tag) throws(TemplateError) -> OpenBlock {
        let call = try self.call(in: tag)
        let isInverted = tag.kind == .inverseOpen
        guard case .name(let name) = call.name else {
            guard call.parameters.isEmpty, call.hash.isEmpty else {
                throw error("\(tag.displayName) calls the literal \(call.name.written) as a block helper, which does not exist", at: tag)
            }
            return OpenBlock(
                openTag: tag, name: call.name.written, helper: .section, argument: literalNamePath(call.name),
                isInverted: isInverted)
        }

        if let helper = BlockHelper(helperNamed: name) {
            guard call.parameters.count == 1 else {
                throw error("\(tag.displayName) requires exactly one argument", at: tag)
            }
            // handlebars.js ignores hash arguments that a helper does not read, and only `if`
            // and `unless` read one.
            let includeZero = call.hash.last { $0.key == "includeZero" }?.value
            return OpenBlock(
                openTag: tag, name: name, helper: helper, argument: call.parameters[0],
                includeZero: helper == .if || helper == .unless ? includeZero : nil, isInverted: isInverted)
        }

        if name == "lookup" {
            throw error("lookup returns a value and cannot open a block; write {{#with (lookup object key)}}", at: tag)
        }
        guard call.parameters.isEmpty, call.hash.isEmpty else {
            throw error("\(tag.displayName) calls the block helper \"\(name)\", which does not exist; the block helpers are if, unless, each and with", at: tag)
        }
        let argument = try converting(tag) { () throws(TagSyntaxError) in try expression(call.name) }
        return OpenBlock(openTag: tag, name: name, helper: .section, argument: argument, isInverted: isInverted)
    }

    /// Returns the partial node of `{{> name context key=value}}`.
    private func partial(of tag: Tag) throws(TemplateError) -> PartialNode {
        let call = try self.call(in: tag)
        guard call.parameters.count <= 1 else {
            throw error("\(tag.displayName) has \(call.parameters.count) context arguments; a partial takes at most one", at: tag)
        }

        let name: PartialNode.Name
        switch call.name {
        case .name(let written):
            name = .fixed(partialName(written))
        case .literal(let value, let written):
            name = .fixed(value?.javaScriptString ?? written)
        case .subexpression(let subexpression):
            name = .dynamic(try converting(tag) { () throws(TagSyntaxError) in try lookupExpression(subexpression) })
        }
        return PartialNode(name: name, context: call.parameters.first, hash: call.hash, indentation: tag.indentation)
    }

    /// Turns a closed block into a node. An inverted block (`{{^name}}`) renders its body
    /// where a normal block renders its `{{else}}` part, so the two swap.
    private func finish(_ block: OpenBlock) -> BlockNode {
        let program = block.isInverted ? block.inverse : block.program
        let inverse = block.isInverted ? block.program : block.inverse
        return BlockNode(
            helper: block.helper, argument: block.argument, includeZero: block.includeZero,
            program: program, inverse: inverse)
    }

    /// Parses a tag's content, rejecting an empty tag and block parameters (`as |item|`).
    private func call(in tag: Tag) throws(TemplateError) -> TagCall {
        let words = tag.content.split(whereSeparator: { $0.unicodeScalars.allSatisfy(isJavaScriptWhitespace) })
        let usesBlockParameters = zip(words, words.dropFirst()).contains { $0 == "as" && $1.hasPrefix("|") }
        if usesBlockParameters {
            throw error("block parameters (as |name|) are not supported; use this, @index and @key", at: tag)
        }
        var parser = TagContentParser(tag.content)
        let parsed = try converting(tag) { () throws(TagSyntaxError) in try parser.parseCall() }
        guard let call = parsed else {
            throw error("the tag \(tag.displayName) is empty", at: tag)
        }
        return call
    }

    private func converting<Result>(
        _ tag: Tag, _ body: () throws(TagSyntaxError) -> Result
    ) throws(TemplateError) -> Result {
        do {
            return try body()
        } catch {
            throw self.error(error.reason, at: tag)
        }
    }

    private func error(_ reason: String, at tag: Tag) -> TemplateError {
        TemplateError(templateName: templateName, line: tag.location.line, column: tag.location.column, reason: reason)
    }
}

/// Returns the path that a literal in a helper's place denotes: as handlebars.js does,
/// `{{true}}`, `{{1}}` or `{{"a b"}}` reads the property named by the literal's text.
private func literalNamePath(_ word: TagWord) -> TemplateExpression {
    guard case .literal(let value, _) = word else { return .literal(nil) }
    let name = value.map { $0.javaScriptString } ?? "undefined"
    return .path(PathExpression(original: word.written, depth: 0, isData: false, parts: [name]))
}

/// Returns the name that a partial tag's path denotes: the text as written, with the brackets
/// of `[…]` segments removed, as handlebars.js names partials.
private func partialName(_ written: String) -> String {
    String(written.unicodeScalars.filter { $0 != "[" && $0 != "]" }.map(Character.init))
}
