import DocumentStore
import TestSupport

/// A generated Handlebars case: a template, the partials it calls and the data it renders.
struct GeneratedTemplateCase: Sendable {
    var seed: UInt64
    var template: String
    var partials: [String: String]
    var data: JSONValue
    /// The features the template and its partials use.
    var constructs: Set<TemplateConstruct>
}

/// A Handlebars feature that generated cases use, so a test can check that each was exercised.
enum TemplateConstruct: String, CaseIterable, Sendable {
    case escapedOutput = "{{path}}"
    case tripleStashOutput = "{{{path}}}"
    case ampersandOutput = "{{& path}}"
    case thisPath = "this"
    case parentPath = "../"
    case rootPath = "@root"
    case index = "@index"
    case key = "@key"
    case first = "@first"
    case last = "@last"
    case parentIndex = "@../index"
    case literalSegment = "[literal segment]"
    case arrayLength = "array.length"
    case ifBlock = "#if"
    case unlessBlock = "#unless"
    case includeZero = "includeZero="
    case eachOverArray = "#each over an array"
    case eachOverObject = "#each over an object"
    case eachElse = "#each with {{else}}"
    case withBlock = "#with"
    case withElse = "#with with {{else}}"
    case elseIf = "{{else if}}"
    case elseUnless = "{{else unless}}"
    case lookup = "lookup"
    case subexpression = "(lookup …) subexpression"
    case stringLiteral = "string literal"
    case numberLiteral = "number literal"
    case booleanLiteral = "boolean literal"
    case nullLiteral = "null literal"
    case shortComment = "{{! …}}"
    case longComment = "{{!-- … --}}"
    case whitespaceControl = "~"
    case standaloneBlockTag = "standalone block tag"
    case standaloneComment = "standalone comment"
    case partial = "{{> name}}"
    case partialWithContext = "{{> name context}}"
    case partialWithHash = "{{> name key=value}}"
    case partialWithContextAndHash = "{{> name context key=value}}"
    case indentedStandalonePartial = "indented standalone partial"
    case nestedPartial = "partial calling a partial"
    case blockDepthThree = "blocks nested three deep"
    case crlfLineBreaks = "CRLF line breaks"
    case invalidTemplate = "invalid template"
}

/// Generates Handlebars templates and JSON data for the comparison with handlebars.js 4.7.
///
/// The templates use only what the engine implements: paths, `this`, `../`, `@root`, the
/// `@index`/`@key`/`@first`/`@last` data variables, the built-in helpers `if`, `unless`,
/// `each`, `with` and `lookup`, literals, comments, `~`, standalone lines and partials. Most
/// paths name values that exist in the data and some do not. About 3% of the cases are made
/// invalid on purpose, so both engines must reject them.
///
/// The generator keeps away from differences between the reference (handlebars.js run by js2py)
/// and handlebars.js in a JavaScript engine, which are not the engine's to match:
/// - It never takes `length` of a string or indexes a string, because the reference counts
///   Unicode scalars where JavaScript counts UTF-16 code units.
/// - It never uses integer-like object keys ("0", "12"). JavaScript visits them first in
///   `#each`, and the reference visits keys in insertion order.
/// - It uses no integers above 2^53 that need more than 17 digits, because the reference prints
///   them exactly (2^60 as "1152921504606846976") where JavaScript prints "1152921504606847000".
/// - It writes no spaces or tabs before a line break that a tag follows, because of a js2py
///   regular expression fault (see `removingBlanksBeforeTagLines`).
struct TemplateGenerator {
    private var random: SeededGenerator
    private let seed: UInt64
    private var constructs: Set<TemplateConstruct> = []
    private var partialSources: [String: String] = [:]
    private var root: JSONValue = .null
    private var lineBreak = "\n"
    /// The number of tags the template may still get, which keeps the reference fast.
    private var tagBudget = 0

    /// Partial names, in the order calls may go: a partial calls only partials after it.
    static let partialNames = ["row", "item-line", "footer", "badge"]

    init(seed: UInt64) {
        self.seed = seed
        self.random = SeededGenerator(seed: seed)
    }

    mutating func makeCase() -> GeneratedTemplateCase {
        lineBreak = chance(0.08) ? "\r\n" : "\n"
        if lineBreak == "\r\n" {
            constructs.insert(.crlfLineBreaks)
        }
        root = makeRootData()
        tagBudget = int(10...24)

        let scope = Scope(contexts: [[root]], iterations: [], firstPartial: 0, depth: 0)
        var template = makeContent(in: scope, count: 3...9)

        // A tag on the first or the last line has no line break on that side.
        // Swift reads "\r\n" as one Character, so removeFirst and removeLast take a whole line break.
        if template.hasPrefix(lineBreak), chance(0.5) {
            template.removeFirst()
        }
        if template.hasSuffix(lineBreak), chance(0.5) {
            template.removeLast()
        }
        if chance(0.03) {
            template = makeInvalid(template)
        }
        return GeneratedTemplateCase(
            seed: seed, template: Self.removingBlanksBeforeTagLines(template),
            partials: partialSources.mapValues(Self.removingBlanksBeforeTagLines), data: root, constructs: constructs)
    }

    // MARK: - Template structure

    /// The generator's model of one place in the template.
    private struct Scope {
        /// The values each context can take, innermost first, as handlebars.js's `depths` that
        /// `../` walks. Inside `#each` one context has one value per iteration.
        var contexts: [[JSONValue]]
        /// The `#each` blocks around this place, innermost last.
        var iterations: [IterationKind]
        /// The index in `partialNames` of the first partial this place may call.
        var firstPartial: Int
        var depth: Int
        /// Whether this place is in a partial. Each partial is generated for its first call, and
        /// later calls may pass contexts of other types, such as strings.
        var isInPartial = false
        /// Whether the context may be null, as in `#each` over `[null]`.
        var mayBeNullContext = false
        /// Whether `../` paths are left out, as they are inside blocks nested in a null context.
        ///
        /// NOTE: Inside `{{#if}}` in a null context, handlebars.js 4.7.8 calls the block with its
        /// `nullContext` object and does not push it onto `depths` (runtime.js, `wrapProgram`),
        /// so `../` still reaches the parent. The reference pushes it, so `../` there renders
        /// empty. Those paths are therefore not compared.
        var avoidsParentPaths = false
    }

    private enum IterationKind {
        case array, object
    }

    /// A path, literal or subexpression as written in a tag, with the values it may have.
    private struct Expression {
        var text: String
        var values: [JSONValue]
    }

    private mutating func makeContent(in scope: Scope, count: ClosedRange<Int>) -> String {
        var output = ""
        for _ in 0..<int(count) {
            output += makeItem(in: scope)
        }
        return output
    }

    private mutating func makeItem(in scope: Scope) -> String {
        guard tagBudget > 0 else {
            return chance(0.5) ? makeText() : lineBreak
        }
        switch int(0..<100) {
        case 0..<16:
            return makeText()
        case 16..<26:
            return lineBreak + pick(Self.indentations)
        case 26..<48:
            tagBudget -= 1
            return makeOutputTag(in: scope)
        case 48..<55:
            tagBudget -= 1
            return makeLookupTag(in: scope)
        case 55..<61:
            tagBudget -= 1
            return makeComment()
        case 61..<89 where scope.depth < 3:
            tagBudget -= 3
            return makeBlock(in: scope)
        case 89..<100:
            if let call = makePartialCall(in: scope) {
                tagBudget -= 1
                return call
            }
            tagBudget -= 1
            return makeOutputTag(in: scope)
        default:
            tagBudget -= 1
            return makeOutputTag(in: scope)
        }
    }

    private static let textPieces = [
        "Hello", "Dear customer", "Order", "total:", " ", "  ", "\t", ",", ".", "—", "&", "&amp;",
        "<br>", "<p class=\"note\">", "</p>", "\"", "'", "=", "`", "a < b > c", "Ünïcödé", "Привет",
        "日本語", "🙂", "👩‍👩‍👧", "e\u{301}", "(", ")", ":", "-", "#", "!", "@", "/", "|", "~", "$", "%", "*",
    ]

    private static let indentations = ["", " ", "  ", "    ", "\t", " \t"]

    /// Text without braces or backslashes, which would change the tags around it.
    private mutating func makeText() -> String {
        var text = ""
        for _ in 0..<int(1...3) {
            text += pick(Self.textPieces) + pick(["", " ", " "])
        }
        return text
    }

    /// Removes spaces and tabs before a "\n" that a tag follows.
    ///
    /// NOTE: js2py translates the JavaScript regular expression `/[ \t]+$/` into a Python one
    /// where `$` also matches before a final "\n", so the reference strips "a \n" before a
    /// standalone `{{/if}}` to "a\n" where handlebars.js leaves it. Text ending that way before
    /// a tag is therefore never generated, and the engine's handling of it is not compared.
    static func removingBlanksBeforeTagLines(_ source: String) -> String {
        var scalars = Array(source.unicodeScalars)
        var index = scalars.count - 3
        while index >= 0 {
            if scalars[index] == "\n", scalars[index + 1] == "{", scalars[index + 2] == "{" {
                var start = index
                while start > 0, scalars[start - 1] == " " || scalars[start - 1] == "\t" {
                    start -= 1
                }
                scalars.removeSubrange(start..<index)
                index = start
            }
            index -= 1
        }
        var result = ""
        result.unicodeScalars.append(contentsOf: scalars)
        return result
    }

    /// Puts `tag` on a line of its own, which makes it standalone when it is a block, `else`,
    /// comment or partial tag.
    private mutating func standalone(_ tag: String) -> (text: String, indentation: String) {
        let indentation = pick(Self.indentations)
        let text = lineBreak + indentation + tag + pick(["", "", " ", "\t"]) + lineBreak
        return (text, indentation)
    }

    /// Writes `{{sigil body}}` with optional `~` on either side and optional inner spaces.
    private mutating func tag(_ sigil: String, _ body: String) -> String {
        let stripsBefore = chance(0.12)
        let stripsAfter = chance(0.12)
        if stripsBefore || stripsAfter {
            constructs.insert(.whitespaceControl)
        }
        let spaceBefore = sigil.isEmpty ? pick(["", "", " "]) : pick(["", "", "", " "])
        let spaceAfter = pick(["", "", "", " "])
        return "{{" + (stripsBefore ? "~" : "") + sigil + spaceBefore + body + spaceAfter + (stripsAfter ? "~" : "") + "}}"
    }

    private mutating func placeBlockTag(_ text: String) -> String {
        guard chance(0.45) else { return text }
        constructs.insert(.standaloneBlockTag)
        return standalone(text).text
    }

    // MARK: - Output tags and comments

    private mutating func makeOutputTag(in scope: Scope) -> String {
        let expression: Expression
        switch int(0..<100) {
        case 0..<62:
            expression = makePath(in: scope, preferScalars: true)
        case 62..<76:
            expression = makeDataVariable(in: scope) ?? makePath(in: scope, preferScalars: true)
        case 76..<90:
            expression = makeMissingPath(in: scope)
        default:
            constructs.insert(.thisPath)
            expression = Expression(text: chance(0.8) ? "this" : ".", values: scope.contexts[0])
        }
        return wrapOutput(expression.text)
    }

    private mutating func makeLookupTag(in scope: Scope) -> String {
        wrapOutput(makeLookup(in: scope, nesting: 0).text)
    }

    /// Writes an output tag: escaped `{{x}}`, or unescaped `{{{x}}}` or `{{& x}}`.
    private mutating func wrapOutput(_ expression: String) -> String {
        switch int(0..<100) {
        case 0..<60:
            constructs.insert(.escapedOutput)
            return tag("", expression)
        case 60..<82:
            constructs.insert(.tripleStashOutput)
            let stripsBefore = chance(0.12)
            let stripsAfter = chance(0.12)
            if stripsBefore || stripsAfter {
                constructs.insert(.whitespaceControl)
            }
            let space = pick(["", "", " "])
            return "{{" + (stripsBefore ? "~" : "") + "{" + space + expression + space + "}" + (stripsAfter ? "~" : "") + "}}"
        default:
            constructs.insert(.ampersandOutput)
            return tag("&", expression)
        }
    }

    private static let commentWords = ["note", "TODO", "a < b", "x & y", "名前", "comment here", "{ braces }", "=", "'", "\""]

    private mutating func makeComment() -> String {
        var text = ""
        for _ in 0..<int(1...3) {
            text += " " + pick(Self.commentWords)
        }
        let stripsBefore = chance(0.12)
        let stripsAfter = chance(0.12)
        if stripsBefore || stripsAfter {
            constructs.insert(.whitespaceControl)
        }
        let open = stripsBefore ? "{{~" : "{{"
        let close = stripsAfter ? "~}}" : "}}"
        let comment: String
        if chance(0.5) {
            constructs.insert(.shortComment)
            comment = open + "!" + text + " " + close
        } else {
            constructs.insert(.longComment)
            // A long comment may contain `}}` and `{{`, which end a short one.
            comment = open + "!--" + text + pick(["", " {{not}} a tag", " }} ", " {{#if x}}"]) + " --" + close
        }
        guard chance(0.4) else { return comment }
        constructs.insert(.standaloneComment)
        return standalone(comment).text
    }

    // MARK: - Blocks

    private mutating func makeBlock(in scope: Scope) -> String {
        var inner = scope
        inner.depth += 1
        if scope.mayBeNullContext {
            inner.avoidsParentPaths = true
        }
        if inner.depth == 3 {
            constructs.insert(.blockDepthThree)
        }
        switch int(0..<100) {
        case 0..<30:
            constructs.insert(.ifBlock)
            return makeConditionalBlock("if", in: scope, inner: inner)
        case 30..<42:
            constructs.insert(.unlessBlock)
            return makeConditionalBlock("unless", in: scope, inner: inner)
        case 42..<77:
            return makeEachBlock(in: scope, inner: inner)
        default:
            return makeWithBlock(in: scope, inner: inner)
        }
    }

    private mutating func makeConditionalBlock(_ helper: String, in scope: Scope, inner: Scope) -> String {
        var head = helper + " " + makeCondition(in: scope).text
        if chance(0.25) {
            head += makeIncludeZero(in: scope)
        }
        var output = placeBlockTag(tag("#", head))
        output += makeContent(in: inner, count: 1...3)
        output += makeInverse(in: inner, chainChance: 0.3)
        output += placeBlockTag(tag("/", helper))
        return output
    }

    private mutating func makeIncludeZero(in scope: Scope) -> String {
        constructs.insert(.includeZero)
        switch int(0..<10) {
        case 0..<6:
            constructs.insert(.booleanLiteral)
            return " includeZero=true"
        case 6..<8:
            constructs.insert(.booleanLiteral)
            return " includeZero=false"
        default:
            return " includeZero=" + makePath(in: scope, preferScalars: true).text
        }
    }

    /// Writes the `{{else}}` part of a block, if any: a plain `{{else}}`, or a chain of
    /// `{{else if x}}` and `{{else unless x}}` with an optional final `{{else}}`.
    private mutating func makeInverse(in scope: Scope, chainChance: Double) -> String {
        var output = ""
        if chance(chainChance) {
            for _ in 0..<int(1...2) {
                let helper: String
                if chance(0.7) {
                    helper = "if"
                    constructs.insert(.elseIf)
                } else {
                    helper = "unless"
                    constructs.insert(.elseUnless)
                }
                var head = "else " + helper + " " + makeCondition(in: scope).text
                if chance(0.15) {
                    head += makeIncludeZero(in: scope)
                }
                output += placeBlockTag(tag("", head))
                output += makeContent(in: scope, count: 1...2)
            }
            if chance(0.5) {
                output += placeBlockTag(tag("", "else"))
                output += makeContent(in: scope, count: 1...2)
            }
        } else if chance(0.55) {
            output += placeBlockTag(tag("", "else"))
            output += makeContent(in: scope, count: 1...3)
        }
        return output
    }

    private mutating func makeEachBlock(in scope: Scope, inner: Scope) -> String {
        let iterable = makeContainerArgument(in: scope, preferObjects: false)
        var elements: [JSONValue] = []
        var iteratesObjects = false
        for value in iterable.values {
            if let array = value.arrayValue {
                constructs.insert(.eachOverArray)
                elements += array
            } else if let object = value.objectValue {
                constructs.insert(.eachOverObject)
                iteratesObjects = true
                elements += object.keys.sorted().map { object[$0]! }
            }
        }

        var body = inner
        body.contexts.insert(elements, at: 0)
        body.iterations.append(iteratesObjects ? .object : .array)
        body.mayBeNullContext = elements.contains(.null)

        var output = placeBlockTag(tag("#", "each " + iterable.text))
        output += makeContent(in: body, count: 1...4)
        let inverse = makeInverse(in: inner, chainChance: 0.1)
        if !inverse.isEmpty {
            constructs.insert(.eachElse)
        }
        output += inverse
        output += placeBlockTag(tag("/", "each"))
        return output
    }

    private mutating func makeWithBlock(in scope: Scope, inner: Scope) -> String {
        constructs.insert(.withBlock)
        let target = makeContainerArgument(in: scope, preferObjects: true)
        var body = inner
        body.contexts.insert(target.values.filter { !isEmpty($0) }, at: 0)
        body.mayBeNullContext = false

        var output = placeBlockTag(tag("#", "with " + target.text))
        output += makeContent(in: body, count: 1...3)
        let inverse = makeInverse(in: inner, chainChance: 0.1)
        if !inverse.isEmpty {
            constructs.insert(.withElse)
        }
        output += inverse
        output += placeBlockTag(tag("/", "with"))
        return output
    }

    /// Returns whether handlebars.js's `isEmpty` is true for `value`, which sends `#with` to its
    /// `{{else}}`.
    private func isEmpty(_ value: JSONValue) -> Bool {
        switch value {
        case .null: true
        case .bool(let flag): !flag
        case .string(let text): text.isEmpty
        case .array(let elements): elements.isEmpty
        case .number, .object: false
        }
    }

    // MARK: - Arguments

    private mutating func makeCondition(in scope: Scope) -> Expression {
        switch int(0..<100) {
        case 0..<60:
            return makePath(in: scope, preferScalars: false)
        case 60..<72:
            return makeDataVariable(in: scope) ?? makePath(in: scope, preferScalars: false)
        case 72..<82:
            return makeLiteral()
        case 82..<92:
            constructs.insert(.subexpression)
            let lookup = makeLookup(in: scope, nesting: 1)
            return Expression(text: "(" + lookup.text + ")", values: lookup.values)
        default:
            return makeMissingPath(in: scope)
        }
    }

    /// Returns an argument for `#each` or `#with`: mostly a path to an array or object.
    private mutating func makeContainerArgument(in scope: Scope, preferObjects: Bool) -> Expression {
        switch int(0..<100) {
        case 0..<78:
            let candidates = pathCandidates(in: scope).filter { candidate in
                candidate.values.contains { value in
                    preferObjects ? value.objectValue != nil : (value.arrayValue != nil || value.objectValue != nil)
                }
            }
            if let candidate = candidates.randomElement(using: &random) {
                return Expression(text: write(candidate), values: candidate.values)
            }
            return makePath(in: scope, preferScalars: false)
        case 78..<88:
            constructs.insert(.subexpression)
            let lookup = makeLookup(in: scope, nesting: 1)
            return Expression(text: "(" + lookup.text + ")", values: lookup.values)
        case 88..<93:
            return makeLiteral()
        case 93..<97:
            return makeMissingPath(in: scope)
        default:
            return makePath(in: scope, preferScalars: false)
        }
    }

    private mutating func makeLiteral() -> Expression {
        switch int(0..<4) {
        case 0:
            constructs.insert(.stringLiteral)
            let text = pick(["Ada", "a & b", "<i>", "x y", "名前", "😀", "", "0", "name"])
            return Expression(text: quote(text), values: [.string(text)])
        case 1:
            constructs.insert(.numberLiteral)
            let text = pick(["0", "1", "-1", "2", "1.5", "10"])
            return Expression(text: text, values: [.number(Double(text)!)])
        case 2:
            constructs.insert(.booleanLiteral)
            let flag = chance(0.5)
            return Expression(text: flag ? "true" : "false", values: [.bool(flag)])
        default:
            constructs.insert(.nullLiteral)
            return Expression(text: "null", values: [.null])
        }
    }

    /// Quotes `text` as a Handlebars string literal, in double or single quotes.
    private mutating func quote(_ text: String) -> String {
        chance(0.7) ? "\"" + text + "\"" : "'" + text + "'"
    }

    // MARK: - lookup

    /// Returns `lookup object key` without the braces or parentheses around it.
    ///
    /// On a string, `lookup` would index it or return its length in UTF-16 code units, so the
    /// key is a known key name whenever the object may be a string.
    private mutating func makeLookup(in scope: Scope, nesting: Int) -> Expression {
        constructs.insert(.lookup)
        let object: Expression
        if nesting < 2, chance(0.15) {
            constructs.insert(.subexpression)
            let inner = makeLookup(in: scope, nesting: nesting + 1)
            object = Expression(text: "(" + inner.text + ")", values: inner.values)
        } else {
            let candidates = pathCandidates(in: scope)
            let containers = candidates.filter { candidate in
                !candidate.values.isEmpty && candidate.values.allSatisfy { $0.arrayValue != nil || $0.objectValue != nil }
            }
            if chance(0.85), let candidate = containers.randomElement(using: &random) {
                object = Expression(text: write(candidate), values: candidate.values)
            } else {
                object = makePath(in: scope, preferScalars: false)
            }
        }

        let key = makeLookupKey(for: object.values, in: scope)
        var values: [JSONValue] = []
        for value in object.values {
            if key.isLiteral {
                values += key.expression.values.compactMap { lookUp($0, in: value) }
            } else if let elements = value.arrayValue {
                // A key read from a path or a data variable may name any member.
                values += elements
            } else if let members = value.objectValue {
                values += members.keys.sorted().map { members[$0]! }
            }
        }
        return Expression(text: "lookup " + object.text + " " + key.expression.text, values: values)
    }

    /// Returns the key argument of `lookup`, and whether it is a literal whose value is known.
    private mutating func makeLookupKey(
        for objects: [JSONValue], in scope: Scope
    ) -> (expression: Expression, isLiteral: Bool) {
        let mayBeString = scope.isInPartial || objects.contains { $0.stringValue != nil }
        let arrays = objects.compactMap(\.arrayValue)
        var keys: [String] = []
        for object in objects {
            if let members = object.objectValue {
                keys += members.keys.sorted()
            }
        }

        if !mayBeString, !arrays.isEmpty, chance(0.8) {
            let longest = arrays.map(\.count).max() ?? 0
            switch int(0..<10) {
            case 0..<5:
                constructs.insert(.numberLiteral)
                let index = int(0...longest)
                return (Expression(text: String(index), values: [.number(Double(index))]), true)
            case 5..<7:
                constructs.insert(.stringLiteral)
                constructs.insert(.arrayLength)
                return (Expression(text: quote("length"), values: [.string("length")]), true)
            default:
                if let variable = makeDataVariable(in: scope) {
                    return (variable, false)
                }
                constructs.insert(.numberLiteral)
                return (Expression(text: "0", values: [.number(0)]), true)
            }
        }

        if !mayBeString, chance(0.25) {
            // A key held in the data, such as the root's `field` or the `@key` of an iteration.
            if let variable = makeDataVariable(in: scope), chance(0.4) {
                return (variable, false)
            }
            let holders = pathCandidates(in: scope).filter { candidate in
                !candidate.values.isEmpty && candidate.values.allSatisfy { $0.stringValue != nil }
            }
            if let holder = holders.randomElement(using: &random) {
                return (Expression(text: write(holder), values: holder.values), false)
            }
        }

        constructs.insert(.stringLiteral)
        let key = (keys.isEmpty || chance(0.15)) ? makeKey() : pick(keys)
        return (Expression(text: quote(key), values: [.string(key)]), true)
    }

    /// Returns what handlebars.js's `lookup` helper returns for `key` in `object`, or nil for
    /// undefined.
    private func lookUp(_ key: JSONValue, in object: JSONValue) -> JSONValue? {
        switch (object, key) {
        case (.object(let members), .string(let name)):
            return members[name]
        case (.array(let elements), .number(let index)):
            guard index >= 0, index == index.rounded(), Int(index) < elements.count else { return nil }
            return elements[Int(index)]
        case (.array(let elements), .string("length")):
            return .number(Double(elements.count))
        default:
            return nil
        }
    }

    // MARK: - Paths

    private enum Segment: Hashable {
        case key(String)
        case index(Int)
        case length
    }

    /// A path that exists in at least one of the values a context can take.
    private struct PathCandidate {
        /// How many `../` the path starts with, or -1 for `@root`.
        var depth: Int
        var segments: [Segment]
        var values: [JSONValue]
    }

    /// Lists the paths from the current context (three segments deep), from the two enclosing
    /// contexts and from `@root` (two segments deep).
    private func pathCandidates(in scope: Scope) -> [PathCandidate] {
        var candidates: [PathCandidate] = []
        for (depth, values) in scope.contexts.prefix(scope.avoidsParentPaths ? 1 : 3).enumerated() {
            collectPaths(
                from: values, segments: [], depth: depth, maximumLength: depth == 0 ? 3 : 2,
                mayIndex: !scope.isInPartial, into: &candidates)
        }
        collectPaths(from: [root], segments: [], depth: -1, maximumLength: 2, mayIndex: true, into: &candidates)
        return candidates
    }

    /// Adds the paths into `values` to `candidates`. `mayIndex` allows `length` and index
    /// segments, which must never apply to a string.
    private func collectPaths(
        from values: [JSONValue], segments: [Segment], depth: Int, maximumLength: Int, mayIndex: Bool,
        into candidates: inout [PathCandidate]
    ) {
        candidates.append(PathCandidate(depth: depth, segments: segments, values: values))
        guard segments.count < maximumLength, !values.isEmpty else { return }

        // `length` and indexes only where every value is an array, never a string.
        let arrays = values.compactMap(\.arrayValue)
        if mayIndex, !arrays.isEmpty, values.allSatisfy({ $0.arrayValue != nil || $0.isNull }) {
            collectPaths(
                from: arrays.map { .number(Double($0.count)) }, segments: segments + [.length], depth: depth,
                maximumLength: maximumLength, mayIndex: mayIndex, into: &candidates)
            for index in 0..<min(2, arrays.map(\.count).max() ?? 0) {
                collectPaths(
                    from: arrays.compactMap { index < $0.count ? $0[index] : nil }, segments: segments + [.index(index)],
                    depth: depth, maximumLength: maximumLength, mayIndex: mayIndex, into: &candidates)
            }
        }

        let objects = values.compactMap(\.objectValue)
        var keys = Set<String>()
        for object in objects {
            keys.formUnion(object.keys)
        }
        for key in keys.sorted() {
            collectPaths(
                from: objects.compactMap { $0[key] }, segments: segments + [.key(key)], depth: depth,
                maximumLength: maximumLength, mayIndex: mayIndex, into: &candidates)
        }
    }

    /// Returns a path that exists in the data. With `preferScalars`, the path mostly leads to a
    /// string, number, boolean or null.
    private mutating func makePath(in scope: Scope, preferScalars: Bool) -> Expression {
        let candidates = pathCandidates(in: scope)
        var pool = candidates
        if preferScalars, chance(0.8) {
            let scalars = candidates.filter { candidate in
                !candidate.values.isEmpty && candidate.values.allSatisfy { $0.arrayValue == nil && $0.objectValue == nil }
            }
            if !scalars.isEmpty {
                pool = scalars
            }
        }
        guard let candidate = pool.randomElement(using: &random) else {
            return makeMissingPath(in: scope)
        }
        return Expression(text: write(candidate), values: candidate.values)
    }

    /// Writes a path with a random spelling: `name` or `[name]`, `this.name`, `../name`.
    private mutating func write(_ candidate: PathCandidate) -> String {
        var parts: [String] = []
        for segment in candidate.segments {
            parts.append(write(segment))
        }
        let joined = parts.joined(separator: ".")

        switch candidate.depth {
        case -1:
            constructs.insert(.rootPath)
            return joined.isEmpty ? "@root" : "@root." + joined
        case 0:
            if joined.isEmpty {
                constructs.insert(.thisPath)
                return chance(0.85) ? "this" : "."
            }
            if chance(0.2) {
                constructs.insert(.thisPath)
                return "this." + joined
            }
            return joined
        default:
            constructs.insert(.parentPath)
            return String(repeating: "../", count: candidate.depth) + (joined.isEmpty ? "this" : joined)
        }
    }

    private mutating func write(_ segment: Segment) -> String {
        switch segment {
        case .key(let key):
            if Self.plainKeys.contains(key), chance(0.85) {
                return key
            }
            constructs.insert(.literalSegment)
            return "[" + key + "]"
        case .index(let index):
            // `items.0` does not parse: handlebars.js reads `0` there as a number literal.
            constructs.insert(.literalSegment)
            return "[\(index)]"
        case .length:
            constructs.insert(.arrayLength)
            return "length"
        }
    }

    private mutating func makeMissingPath(in scope: Scope) -> Expression {
        // At the top context `../absent` reaches above it, which handlebars.js renders as empty.
        let options = ["missing", "absent.deeper", "this.absent", "@root.absent", "[not here]", "@absent", "../absent"]
        let candidates = pathCandidates(in: scope).filter { !$0.segments.isEmpty && $0.depth >= 0 }
        if let candidate = candidates.randomElement(using: &random), chance(0.4) {
            return Expression(text: write(candidate) + ".absent", values: [])
        }
        return Expression(text: pick(options), values: [])
    }

    /// Returns `@index`, `@key`, `@first`, `@last` or `@../index`, or nil outside `#each`
    /// most of the time.
    private mutating func makeDataVariable(in scope: Scope) -> Expression? {
        guard let iteration = scope.iterations.last else {
            guard chance(0.2) else { return nil }
            constructs.insert(.index)
            return Expression(text: "@index", values: [])
        }
        let keyValue: JSONValue = iteration == .array ? .number(0) : .string(pick(Self.plainKeys))
        // In a single `#each`, `@../index` reads the root data frame, which has no index.
        if scope.iterations.count >= 2 ? chance(0.3) : chance(0.05) {
            constructs.insert(.parentIndex)
            return Expression(text: "@../index", values: [.number(0)])
        }
        let choices: [(String, TemplateConstruct, JSONValue)] = [
            ("@index", .index, .number(0)), ("@key", .key, keyValue), ("@first", .first, .bool(true)),
            ("@last", .last, .bool(false)),
        ]
        let choice = pick(choices)
        constructs.insert(choice.1)
        return Expression(text: choice.0, values: [choice.2])
    }

    // MARK: - Partials

    /// Writes a call of a partial that comes after the partials already on the call chain, or
    /// returns nil when none is left.
    private mutating func makePartialCall(in scope: Scope) -> String? {
        guard scope.firstPartial < Self.partialNames.count else { return nil }
        let index = int(scope.firstPartial...(Self.partialNames.count - 1))
        let name = Self.partialNames[index]
        constructs.insert(.partial)
        if scope.firstPartial > 0 {
            constructs.insert(.nestedPartial)
        }

        var arguments = ""
        var contextValues = scope.contexts[0]
        var form: PartialForm
        switch int(0..<100) {
        case 0..<40: form = .plain
        case 40..<60: form = .context
        case 60..<85: form = .hash
        default: form = .contextAndHash
        }
        let contextIsObject = !contextValues.isEmpty && contextValues.allSatisfy { $0.objectValue != nil }
        if form == .hash, !contextIsObject {
            // handlebars.js would copy a string's characters into the partial's context.
            form = .plain
        }

        if form == .contextAndHash {
            let objects = pathCandidates(in: scope).filter { candidate in
                !candidate.values.isEmpty && candidate.values.allSatisfy { $0.objectValue != nil }
            }
            if let candidate = objects.randomElement(using: &random) {
                constructs.insert(.partialWithContextAndHash)
                arguments += " " + write(candidate)
                contextValues = candidate.values
            } else {
                form = .context
            }
        }
        if form == .context {
            constructs.insert(.partialWithContext)
            let context = makeContainerArgument(in: scope, preferObjects: chance(0.5))
            arguments += " " + context.text
            contextValues = context.values
        }
        if form == .hash || form == .contextAndHash {
            if form == .hash {
                constructs.insert(.partialWithHash)
            }
            var members: [String: JSONValue?] = [:]
            for key in Self.hashKeys.shuffled(using: &random).prefix(int(1...3)) {
                let value: Expression
                switch int(0..<10) {
                case 0..<4:
                    value = makePath(in: scope, preferScalars: true)
                case 4..<8:
                    value = makeLiteral()
                default:
                    constructs.insert(.subexpression)
                    let lookup = makeLookup(in: scope, nesting: 1)
                    value = Expression(text: "(" + lookup.text + ")", values: lookup.values)
                }
                arguments += " " + key + "=" + value.text
                members[key] = value.values.first
            }
            // handlebars.js renders the partial with a copy of the context that has the hash's
            // members added.
            contextValues = contextValues.map { value in
                guard var object = value.objectValue else { return value }
                for (key, member) in members {
                    object[key] = member
                }
                return .object(object)
            }
        }

        if partialSources[name] == nil {
            let partialScope = Scope(
                contexts: [contextValues], iterations: scope.iterations, firstPartial: index + 1, depth: scope.depth,
                isInPartial: true)
            var source = makeContent(in: partialScope, count: 1...4)
            if chance(0.5) {
                source += lineBreak
            }
            partialSources[name] = source
        }

        let call = tag(">", name + arguments)
        guard chance(0.5) else { return call }
        let placed = standalone(call)
        if !placed.indentation.isEmpty {
            constructs.insert(.indentedStandalonePartial)
        }
        return placed.text
    }

    private static let hashKeys = ["title", "label", "note", "flag", "extra", "count"]

    private enum PartialForm {
        case plain, context, hash, contextAndHash
    }

    // MARK: - Invalid templates

    /// Breaks `template` in a way handlebars.js rejects when it compiles or runs it.
    private mutating func makeInvalid(_ template: String) -> String {
        constructs.insert(.invalidTemplate)
        switch int(0..<7) {
        case 0: return template + "{{/if}}"
        case 1: return "{{#each items}}" + template
        case 2: return template + "{{else}}"
        case 3: return template + "{{name"
        case 4: return template + "{{#if}}x{{/if}}"
        case 5: return template + "{{#with a b}}x{{/with}}"
        default: return "{{#if a}}" + template + "{{/each}}"
        }
    }

    // MARK: - Data

    /// Keys that are Handlebars identifiers, which a path may name without brackets.
    static let plainKeys = [
        "name", "title", "city", "note", "label", "status", "amount", "count", "price", "active", "hidden", "items",
        "orders", "tags", "people", "user", "address", "meta", "options", "lines", "code", "zero", "empty", "value",
        "kind", "field", "x-y", "ключ", "名前", "émoji",
    ]

    /// Keys that a path must put in brackets, such as `[first name]`. None is integer-like.
    static let bracketKeys = ["first name", "a.b", "@at", "true", "with/slash", "01", "-1", "a=b", " padded "]

    private static let stringPieces = [
        "Ada", "Lovelace", "hello world", "Tom & Jerry", "<b>bold</b>", "\"quoted\"", "it's", "`tick`", "a=b",
        "back\\slash", "Ünïcödé", "Привет, мир", "日本語テキスト", "emoji 😀", "👩‍👩‍👧 family", "e\u{301}", "\u{212B}",
        "tab\there", "line one\nline two", "{{not a tag}}", " spaced ", "&amp;", "a < b > c", "ℕ ∑ ∞", "\u{200B}",
        "x", "42", "0", "true", "null", "🇩🇪", "<script>alert('x')</script>", "trailing\n",
    ]

    private static let numbers: [Double] = [
        0, 0, 1, 2, 3, -3, 42, 100, 1.5, -2.25, 0.1, 0.30000000000000004, 3.14159, 123_456.789, 1e21, 1e-7, 0.000001,
        1e20, 9_007_199_254_740_992, 1.5e300, Double.leastNonzeroMagnitude, 1.0 / 3.0, -1e-7, 2.5e-8,
    ]

    private mutating func makeRootData() -> JSONValue {
        var members: [String: JSONValue] = [:]
        for _ in 0..<int(3...7) {
            members[makeKey()] = makeValue(depth: 1)
        }
        members[pick(["items", "orders", "people", "lines"])] = makeObjectArray(depth: 1)
        members[pick(["user", "address", "meta", "options"])] = makeObject(depth: 1)
        if chance(0.5) {
            members[pick(["count", "zero", "amount"])] = .number(0)
        }

        // A key name held as data, for `lookup object field`.
        var keys: [String] = []
        collectKeys(of: .object(members), into: &keys)
        if let key = keys.randomElement(using: &random) {
            members["field"] = .string(key)
        }
        return .object(members)
    }

    private func collectKeys(of value: JSONValue, into keys: inout [String]) {
        if let members = value.objectValue {
            for key in members.keys.sorted() {
                keys.append(key)
                collectKeys(of: members[key]!, into: &keys)
            }
        } else if let elements = value.arrayValue {
            for element in elements {
                collectKeys(of: element, into: &keys)
            }
        }
    }

    private mutating func makeKey() -> String {
        chance(0.12) ? pick(Self.bracketKeys) : pick(Self.plainKeys)
    }

    private mutating func makeValue(depth: Int) -> JSONValue {
        guard depth < 3 else { return makeScalar() }
        switch int(0..<100) {
        case 0..<50: return makeScalar()
        case 50..<65: return makeObject(depth: depth)
        case 65..<80: return makeObjectArray(depth: depth)
        case 80..<90: return makeScalarArray(depth: depth)
        case 90..<95: return .array([])
        default: return .object([:])
        }
    }

    private mutating func makeScalar() -> JSONValue {
        switch int(0..<100) {
        case 0..<50: return .string(makeString())
        case 50..<75: return .number(pick(Self.numbers))
        case 75..<88: return .bool(chance(0.5))
        default: return .null
        }
    }

    private mutating func makeString() -> String {
        guard !chance(0.1) else { return "" }
        var pieces: [String] = []
        for _ in 0..<int(1...3) {
            pieces.append(pick(Self.stringPieces))
        }
        return pieces.joined(separator: pick(["", " ", "\n"]))
    }

    private mutating func makeObject(depth: Int) -> JSONValue {
        var members: [String: JSONValue] = [:]
        for _ in 0..<int(1...5) {
            members[makeKey()] = makeValue(depth: depth + 1)
        }
        return .object(members)
    }

    /// Returns an array of objects with mostly the same keys, as in a list of order lines.
    private mutating func makeObjectArray(depth: Int) -> JSONValue {
        let first = makeObject(depth: depth)
        var elements = [first]
        for _ in 0..<int(0...3) {
            elements.append(makeSimilar(to: first))
        }
        return .array(elements)
    }

    /// Returns a value of the same shape as `value`, with a key dropped or added now and then.
    private mutating func makeSimilar(to value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            var result: [String: JSONValue] = [:]
            for key in members.keys.sorted() where !chance(0.1) {
                result[key] = makeSimilar(to: members[key]!)
            }
            if chance(0.1) {
                result[makeKey()] = makeScalar()
            }
            return .object(result)
        case .array(let elements):
            guard let first = elements.first else { return value }
            var result: [JSONValue] = []
            for _ in 0..<int(0...3) {
                result.append(makeSimilar(to: first))
            }
            return .array(result)
        case .string:
            return .string(makeString())
        case .number:
            return .number(pick(Self.numbers))
        case .bool:
            return .bool(chance(0.5))
        case .null:
            return chance(0.7) ? .null : makeScalar()
        }
    }

    private mutating func makeScalarArray(depth: Int) -> JSONValue {
        var elements: [JSONValue] = []
        let kind = int(0..<4)
        for _ in 0..<int(1...4) {
            switch kind {
            case 0: elements.append(.string(makeString()))
            case 1: elements.append(.number(pick(Self.numbers)))
            case 2: elements.append(makeScalar())
            default: elements.append(depth < 2 ? makeScalarArray(depth: depth + 1) : makeScalar())
            }
        }
        return .array(elements)
    }

    // MARK: - Random choices

    private mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &random) < probability
    }

    private mutating func int(_ range: ClosedRange<Int>) -> Int {
        Int.random(in: range, using: &random)
    }

    private mutating func int(_ range: Range<Int>) -> Int {
        Int.random(in: range, using: &random)
    }

    private mutating func pick<Element>(_ elements: [Element]) -> Element {
        elements.randomElement(using: &random)!
    }
}
