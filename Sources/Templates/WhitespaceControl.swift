/// Removes the whitespace that handlebars.js 4.7 removes around tags, in two passes.
///
/// First `~` strips all whitespace, newlines included, on its side of a tag. Then a block tag,
/// `{{else}}` or comment that is alone on its line ("standalone") removes the indentation before
/// it and the line break after it. Standalone tags are found from the original text, so the
/// first pass does not change which tags are standalone. A side that `~` stripped stays as it is.
func applyWhitespaceControl(to tokens: inout [TemplateToken]) {
    for index in tokens.indices {
        guard case .tag(let tag) = tokens[index] else { continue }
        if tag.stripsBefore {
            updateText(at: index - 1, in: &tokens) { text in
                stripTrailing(&text, where: isJavaScriptWhitespace)
            }
        }
        if tag.stripsAfter {
            updateText(at: index + 1, in: &tokens) { text in
                stripLeading(&text, where: isJavaScriptWhitespace)
            }
        }
    }

    let standaloneIndices = tokens.indices.filter { isStandalone(at: $0, in: tokens) }
    for index in standaloneIndices {
        recordPartialIndentation(at: index, in: &tokens)
        updateText(at: index + 1, in: &tokens) { text in
            guard !text.isStartStripped else { return }
            stripIndentationAndLineBreak(&text)
        }
        updateText(at: index - 1, in: &tokens) { text in
            guard !text.isEndStripped else { return }
            stripTrailing(&text) { $0 == " " || $0 == "\t" }
        }
    }
}

/// Stores in a standalone partial tag the spaces and tabs that end the text before it, which
/// handlebars.js repeats before each line of the partial's output.
private func recordPartialIndentation(at index: Int, in tokens: inout [TemplateToken]) {
    guard case .tag(var tag) = tokens[index], tag.kind == .partial, index > 0 else { return }
    guard case .text(let text) = tokens[index - 1] else { return }

    let indentation = text.original.unicodeScalars.reversed().prefix { $0 == " " || $0 == "\t" }
    tag.indentation = String(String.UnicodeScalarView(indentation.reversed()))
    tokens[index] = .tag(tag)
}

/// Returns whether the tag at `index` is alone on its line. At the very start or end of the template no
/// line break is needed, as in handlebars.js, where the template's top level counts as a line.
private func isStandalone(at index: Int, in tokens: [TemplateToken]) -> Bool {
    guard case .tag(let tag) = tokens[index], tag.canStandAlone else { return false }

    let startsLine: Bool
    if index == 0 {
        startsLine = true
    } else if case .text(let text) = tokens[index - 1] {
        startsLine = endsWithBlankLineStart(text.original, allowingNoLineBreak: index - 1 == 0)
    } else {
        startsLine = false
    }

    let endsLine: Bool
    if index == tokens.count - 1 {
        endsLine = true
    } else if case .text(let text) = tokens[index + 1] {
        endsLine = startsWithBlankLineEnd(text.original, allowingNoLineBreak: index + 1 == tokens.count - 1)
    } else {
        endsLine = false
    }
    return startsLine && endsLine
}

/// Returns whether the whitespace at the end of `text` contains a line break, or, when allowed, `text` is
/// whitespace only.
private func endsWithBlankLineStart(_ text: String, allowingNoLineBreak: Bool) -> Bool {
    let trailing = text.unicodeScalars.reversed().prefix(while: isJavaScriptWhitespace)
    if trailing.contains("\n") { return true }
    return allowingNoLineBreak && trailing.count == text.unicodeScalars.count
}

/// Returns whether the whitespace at the start of `text` contains a line break, or, when allowed, `text`
/// is whitespace only.
private func startsWithBlankLineEnd(_ text: String, allowingNoLineBreak: Bool) -> Bool {
    let leading = text.unicodeScalars.prefix(while: isJavaScriptWhitespace)
    if leading.contains("\n") { return true }
    return allowingNoLineBreak && leading.count == text.unicodeScalars.count
}

private func updateText(at index: Int, in tokens: inout [TemplateToken], _ update: (inout TextToken) -> Void) {
    guard tokens.indices.contains(index), case .text(var text) = tokens[index] else { return }
    update(&text)
    tokens[index] = .text(text)
}

private func stripLeading(_ text: inout TextToken, where shouldStrip: (Unicode.Scalar) -> Bool) {
    let scalars = text.value.unicodeScalars
    let remaining = String(String.UnicodeScalarView(scalars.drop(while: shouldStrip)))
    if remaining != text.value { text.isStartStripped = true }
    text.value = remaining
}

private func stripTrailing(_ text: inout TextToken, where shouldStrip: (Unicode.Scalar) -> Bool) {
    var scalars = text.value.unicodeScalars
    while let last = scalars.last, shouldStrip(last) {
        scalars.removeLast()
    }
    let remaining = String(scalars)
    if remaining != text.value { text.isEndStripped = true }
    text.value = remaining
}

/// Removes spaces and tabs, then an optional `\r` and an optional `\n`, from the start of `text`.
private func stripIndentationAndLineBreak(_ text: inout TextToken) {
    var scalars = Substring(text.value).unicodeScalars
    scalars = scalars.drop { $0 == " " || $0 == "\t" }
    if scalars.first == "\r" { scalars = scalars.dropFirst() }
    if scalars.first == "\n" { scalars = scalars.dropFirst() }
    let remaining = String(String.UnicodeScalarView(scalars))
    if remaining != text.value { text.isStartStripped = true }
    text.value = remaining
}
