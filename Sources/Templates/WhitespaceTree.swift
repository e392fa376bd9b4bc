/// The block structure of a token list, as handlebars.js 4.7 parses it, for whitespace control.
/// Text nodes refer to their token, so stripping edits the tokens the parser reads afterwards.
final class WhitespaceProgram {
    var body: [WhitespaceNode] = []
    /// True for the program that `{{else if x}}` makes: its body is the one chained block.
    var isChained = false

    init(isChained: Bool = false) {
        self.isChained = isChained
    }
}

enum WhitespaceNode {
    case text(tokenIndex: Int)
    /// A value, comment or partial tag.
    case tag(tokenIndex: Int, strip: TagStrip, isInlineStandalone: Bool)
    case block(WhitespaceBlock)
}

/// The `~` marks of a tag: `open` for `{{~`, `close` for `~}}`.
struct TagStrip {
    var open = false
    var close = false

    init(_ tag: Tag) {
        open = tag.stripsBefore
        close = tag.stripsAfter
    }

    init() {}
}

final class WhitespaceBlock {
    var openStrip: TagStrip
    /// The strip of the `{{else}}` or `{{else if}}` tag that starts `inverse`.
    var inverseStrip: TagStrip?
    /// The strip handlebars.js records as the block's close. For a chain's first block it is
    /// the real `{{/name}}`; for later chained blocks it is their own `{{else if}}` tag's.
    var closeStrip: TagStrip?
    var program: WhitespaceProgram?
    var inverse: WhitespaceProgram?
    let isInverted: Bool
    let isChained: Bool

    init(openStrip: TagStrip, isInverted: Bool, isChained: Bool) {
        self.openStrip = openStrip
        self.isInverted = isInverted
        self.isChained = isChained
    }
}

/// Builds the program tree from tokens. Unmatched tags are skipped here, because the parser
/// reports them afterwards.
func buildWhitespaceTree(_ tokens: [TemplateToken]) -> WhitespaceProgram {
    struct Frame {
        var block: WhitespaceBlock
        var current: WhitespaceProgram
    }
    let root = WhitespaceProgram()
    var frames: [Frame] = []
    var current: WhitespaceProgram { frames.last?.current ?? root }

    for (index, token) in tokens.enumerated() {
        guard case .tag(let tag) = token else {
            current.body.append(.text(tokenIndex: index))
            continue
        }

        switch tag.kind {
        case .escapedValue, .unescapedValue:
            current.body.append(.tag(tokenIndex: index, strip: TagStrip(tag), isInlineStandalone: false))
        case .comment, .partial:
            current.body.append(.tag(tokenIndex: index, strip: TagStrip(tag), isInlineStandalone: true))

        case .blockOpen, .inverseOpen:
            let block = WhitespaceBlock(openStrip: TagStrip(tag), isInverted: tag.kind == .inverseOpen, isChained: false)
            block.program = WhitespaceProgram()
            current.body.append(.block(block))
            frames.append(Frame(block: block, current: block.program!))

        case .elseSeparator:
            guard var frame = frames.popLast() else { continue }
            frame.block.inverseStrip = TagStrip(tag)
            guard !tag.content.isEmpty else {
                frame.block.inverse = WhitespaceProgram()
                frame.current = frame.block.inverse!
                frames.append(frame)
                continue
            }

            // `{{else if x}}` ends this block's program with a chained block in its inverse.
            let wrapper = WhitespaceProgram(isChained: true)
            let chained = WhitespaceBlock(openStrip: TagStrip(tag), isInverted: false, isChained: true)
            chained.program = WhitespaceProgram()
            if frame.block.isChained { chained.closeStrip = TagStrip(tag) }
            wrapper.body = [.block(chained)]
            frame.block.inverse = wrapper
            frames.append(frame)
            frames.append(Frame(block: chained, current: chained.program!))

        case .blockClose:
            guard !frames.isEmpty else { continue }
            var closed = frames.removeLast()
            var firstChained: WhitespaceBlock?
            while closed.block.isChained, let parent = frames.popLast() {
                firstChained = closed.block
                closed = parent
            }
            closed.block.closeStrip = TagStrip(tag)
            firstChained?.closeStrip = TagStrip(tag)
            if closed.block.isInverted {
                // handlebars.js swaps the parts of `{{^name}}…{{else}}…{{/name}}`.
                swap(&closed.block.program, &closed.block.inverse)
            }
        }
    }
    return root
}
