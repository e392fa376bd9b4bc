import DocumentStore

/// Renders a syntax tree with the semantics of handlebars.js 4.7 and its built-in helpers.
struct TemplateRenderer {
    let root: JSONValue
    let partials: [String: Template]
    /// False to output `{{value}}` as `{{{value}}}`, as handlebars.js's `noEscape` option does.
    let escapesHTML: Bool
    private(set) var output = ""
    private var partialDepth = 0
    /// The nodes visited so far, bounded by ``TemplateLimits/maximumRenderSteps``.
    private var steps = 0
    /// The blocks and partials being rendered, one inside the other.
    private var nestingDepth = 0
    /// A counter that gives each object the renderer builds its own origin.
    private var newObjectCount = 0
    /// The iteration order of the objects the renderer builds, by their origin's marker.
    private var keyOrders: [String: [String]] = [:]

    init(root: JSONValue, partials: [String: Template], escapesHTML: Bool) {
        self.root = root
        self.partials = partials
        self.escapesHTML = escapesHTML
    }

    /// Renders `nodes`, which belong to `template`, so that errors name it.
    mutating func render(_ nodes: [TemplateNode], of template: Template, in scope: RenderScope) throws(TemplateRenderError) {
        // handlebars.js compiles a program's output as one JavaScript `+` expression, so when
        // it starts with unescaped numbers or booleans, as in `{{{a}}}{{{b}}}`, they are added
        // up before the first string joins them.
        var leadingSum = LeadingNumberSum()
        var isInLeadingRun = true

        for node in nodes {
            steps += 1
            if steps > TemplateLimits.maximumRenderSteps {
                throw TemplateRenderError(
                    templateName: template.name,
                    reason: "rendering takes more than \(TemplateLimits.maximumRenderSteps) steps; check loops over large data and partials that call each other")
            }
            if isInLeadingRun, case .value(let expression, let escaped) = node, !(escaped && escapesHTML),
                let value = evaluate(expression, in: scope), leadingSum.add(value)
            {
                continue
            }
            if isInLeadingRun {
                isInLeadingRun = false
                if let text = leadingSum.text { try append(text, of: template) }
            }

            switch node {
            case .text(let text):
                try append(text, of: template)

            case .value(let expression, let escaped):
                // handlebars.js prints `null` and `undefined` as nothing, every other value as
                // JavaScript's `String(value)` would.
                guard let value = evaluate(expression, in: scope), value != .null else { continue }
                let text = value.javaScriptString
                try append(escaped && escapesHTML ? escapeHTML(text) : text, of: template)

            case .block(let block):
                try render(block, of: template, in: scope)

            case .partial(let partial):
                try render(partial, calledFrom: template, in: scope)
            }
        }
        if isInLeadingRun, let text = leadingSum.text {
            try append(text, of: template)
        }
    }

    private mutating func append(_ text: String, of template: Template) throws(TemplateRenderError) {
        output += text
        if output.utf8.count > TemplateLimits.maximumOutputBytes {
            throw TemplateRenderError(
                templateName: template.name,
                reason: "the output exceeds \(TemplateLimits.maximumOutputBytes) bytes; check for loops over large data")
        }
    }

    private mutating func render(_ block: BlockNode, of template: Template, in scope: RenderScope) throws(TemplateRenderError) {
        // Each template's blocks nest at most maximumBlockDepth deep and partials at most
        // maximumPartialDepth, but partials can stack blocks beyond what the stack holds.
        nestingDepth += 1
        defer { nestingDepth -= 1 }
        guard nestingDepth <= TemplateLimits.maximumBlockDepth * 2 else {
            throw TemplateRenderError(
                templateName: template.name,
                reason: "blocks and partials are nested more than \(TemplateLimits.maximumBlockDepth * 2) deep; check whether a partial includes itself")
        }

        let value = evaluate(block.argument, in: scope)

        switch block.helper {
        case .if, .unless:
            let includeZero = block.includeZero.map { isTruthyForIf(evaluate($0, in: scope)) } ?? false
            let condition = includeZero ? value.map { !isEmpty($0) } ?? false : isTruthyForIf(value)
            let isTrue = block.helper == .if ? condition : !condition
            try render(isTrue ? block.program : block.inverse, of: template, in: scope.asHelperContext())

        case .with:
            if let value, !isEmpty(value) {
                try render(block.program, of: template, in: scope.entering(value, origin: origin(of: block.argument, in: scope)))
            } else {
                try render(block.inverse, of: template, in: scope.asHelperContext())
            }

        case .each:
            let didIterate = try renderEach(
                value, at: origin(of: block.argument, in: scope), program: block.program, of: template, in: scope)
            if !didIterate {
                try render(block.inverse, of: template, in: scope.asHelperContext())
            }

        case .section:
            try renderSection(value, block, of: template, in: scope)
        }
    }

    /// Renders a block whose name is not a helper, as handlebars.js `blockHelperMissing` does.
    /// `true` keeps the context. `false`, `null`, a missing value and an empty array render the
    /// inverse. An array iterates as `#each`. Any other value, `0` and `""` included, becomes
    /// the context.
    private mutating func renderSection(
        _ value: JSONValue?, _ block: BlockNode, of template: Template, in scope: RenderScope
    ) throws(TemplateRenderError) {
        switch value {
        case .bool(true):
            try render(block.program, of: template, in: scope.asHelperContext())
        case nil, .null, .bool(false):
            try render(block.inverse, of: template, in: scope.asHelperContext())
        case .array(let elements) where elements.isEmpty:
            try render(block.inverse, of: template, in: scope.asHelperContext())
        case .array:
            _ = try renderEach(
                value, at: origin(of: block.argument, in: scope), program: block.program, of: template, in: scope)
        case .some(let context):
            try render(block.program, of: template, in: scope.entering(context, origin: origin(of: block.argument, in: scope)))
        }
    }

    /// Renders `program` once per element or property, setting `@index`, `@key`, `@first` and
    /// `@last`. Returns false when nothing was iterated, so the caller renders the inverse.
    private mutating func renderEach(
        _ value: JSONValue?, at collectionOrigin: [String]?, program: [TemplateNode], of template: Template,
        in scope: RenderScope
    ) throws(TemplateRenderError) -> Bool {
        let items: [(key: JSONValue, value: JSONValue)]
        switch value {
        case .array(let elements):
            items = elements.enumerated().map { (.number(Double($0.offset)), $0.element) }
        case .object(let object):
            var keys = orderedKeys(of: object)
            if let origin = collectionOrigin, origin.count == 1, let order = keyOrders[origin[0]] {
                keys = order
            }
            items = keys.map { (.string($0), object[$0]!) }
        default:
            return false
        }

        for (index, item) in items.enumerated() {
            let frame: [String: JSONValue] = [
                "key": item.key,
                "index": .number(Double(index)),
                "first": .bool(index == 0),
                "last": .bool(index == items.count - 1),
            ]
            let itemOrigin = collectionOrigin.map { $0 + [item.key.javaScriptString] }
            let iterationScope = scope.addingDataFrame(frame).entering(item.value, origin: itemOrigin)
            try render(program, of: template, in: iterationScope)
        }
        return !items.isEmpty
    }

    /// Renders `{{> name}}` with the partial's context: the argument, or the caller's context,
    /// extended with the hash arguments when there are any.
    private mutating func render(
        _ partial: PartialNode, calledFrom caller: Template, in scope: RenderScope
    ) throws(TemplateRenderError) {
        let name = try partialName(partial.name, calledFrom: caller, in: scope)
        guard let template = partials[name] else {
            throw TemplateRenderError(
                templateName: caller.name, reason: "the partial \"\(name)\" is not found", missingPartialName: name)
        }
        guard partialDepth < TemplateLimits.maximumPartialDepth else {
            throw TemplateRenderError(
                templateName: caller.name,
                reason: "partials are nested more than \(TemplateLimits.maximumPartialDepth) deep at \"\(name)\"; check whether it includes itself")
        }

        let contextExpression = partial.context ?? .path(.currentContext)
        var context = evaluate(contextExpression, in: scope) ?? .null
        var contextOrigin = origin(of: contextExpression, in: scope)
        if !partial.hash.isEmpty {
            // The extended context is a new object, the same only to itself, whose keys keep
            // JavaScript's order: the context's keys, then the hash's new keys as written.
            let extended = extending(context, with: partial.hash, in: scope)
            newObjectCount += 1
            let marker = "\u{0}partial context \(newObjectCount)"
            keyOrders[marker] = keyOrder(of: context, extendedWith: partial.hash, in: extended)
            context = .object(extended)
            contextOrigin = [marker]
        }
        let partialScope = scope.enteringPartial(context, origin: contextOrigin)

        partialDepth += 1
        nestingDepth += 1
        defer {
            partialDepth -= 1
            nestingDepth -= 1
        }
        guard !partial.indentation.isEmpty else {
            try render(template.nodes, of: template, in: partialScope)
            return
        }

        let start = output.endIndex
        try render(template.nodes, of: template, in: partialScope)
        let rendered = String(output[start...])
        output.removeSubrange(start...)
        let lineCount = rendered.utf8.reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        guard output.utf8.count + rendered.utf8.count + lineCount * partial.indentation.utf8.count <= TemplateLimits.maximumOutputBytes else {
            throw TemplateRenderError(
                templateName: template.name,
                reason: "the output exceeds \(TemplateLimits.maximumOutputBytes) bytes once the partial \"\(name)\" is indented; check for loops over large data")
        }
        output += indent(rendered[...], with: partial.indentation)
    }

    private func partialName(
        _ name: PartialNode.Name, calledFrom caller: Template, in scope: RenderScope
    ) throws(TemplateRenderError) -> String {
        switch name {
        case .fixed(let name):
            return name
        case .dynamic(let expression):
            guard case .string(let name)? = evaluate(expression, in: scope) else {
                throw TemplateRenderError(templateName: caller.name, reason: "a dynamic partial name is not a string")
            }
            return name
        }
    }

    /// Returns the properties of `context`, if it is an object or array, with `hash` evaluated
    /// on top, as handlebars.js `Utils.extend({}, context, hash)` builds a partial's context.
    private func extending(_ context: JSONValue, with hash: [HashArgument], in scope: RenderScope) -> JSONObject {
        var object: JSONObject = [:]
        switch context {
        case .object(let fields):
            object = fields
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                object[String(index)] = element
            }
        default:
            // NOTE: JavaScript would also copy a string's characters as "0", "1", …; a string
            // context contributes nothing here.
            break
        }

        // A hash argument that is undefined still creates its key in handlebars.js, which
        // `#each` then visits; null is the nearest JSON value.
        for argument in hash {
            object[argument.key] = evaluate(argument.value, in: scope) ?? .null
        }
        return object
    }

    /// Returns the keys of a partial's context extended with `hash` in the order handlebars.js
    /// iterates them: array-index keys ascending, then the context's other keys, then the
    /// hash's new keys.
    ///
    /// NOTE: Node.js visits the new hash keys in the order they are written. Here they come in
    /// code-point order, like every object's keys, as in the handlebars.js 4.7.8 that the PyPI
    /// package `handlebars` runs.
    private func keyOrder(of context: JSONValue, extendedWith hash: [HashArgument], in extended: JSONObject) -> [String] {
        var contextKeys: [String] = []
        switch context {
        case .object(let fields): contextKeys = orderedKeys(of: fields)
        case .array(let elements): contextKeys = elements.indices.map(String.init)
        default: break
        }

        let contextKeySet = Set(contextKeys)
        let newKeys = Set(hash.map(\.key)).subtracting(contextKeySet)
            .sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
        let written = contextKeys + newKeys
        let indexKeys = written.compactMap { key in arrayIndex(key).map { (key, $0) } }.sorted { $0.1 < $1.1 }.map(\.0)
        return indexKeys + written.filter { arrayIndex($0) == nil && extended[$0] != nil }
    }

    /// Evaluates `expression`, returning nil where JavaScript would produce `undefined`.
    func evaluate(_ expression: TemplateExpression, in scope: RenderScope) -> JSONValue? {
        switch expression {
        case .path(let path):
            return resolve(path, in: scope)
        case .literal(let value):
            return value
        case .lookup(let objectExpression, let keyExpression):
            // handlebars.js returns a falsy object itself, so `{{lookup 0 "a"}}` outputs `0`.
            let object = evaluate(objectExpression, in: scope)
            guard let object, isJavaScriptTruthy(object) else { return object }
            let key = evaluate(keyExpression, in: scope)?.javaScriptString ?? "undefined"
            return property(key, of: object)
        }
    }

    /// Returns the keys that lead from the root context to the value of `expression`, or nil
    /// when the value is not part of the root context.
    func origin(of expression: TemplateExpression, in scope: RenderScope) -> [String]? {
        switch expression {
        case .literal:
            return nil
        case .lookup(let objectExpression, let keyExpression):
            let key = evaluate(keyExpression, in: scope)?.javaScriptString ?? "undefined"
            return origin(of: objectExpression, in: scope).map { $0 + [key] }
        case .path(let path) where path.isData:
            // Of the data variables only `@root` can hold an object.
            guard path.parts.first == "root" else { return nil }
            return Array(path.parts.dropFirst())
        case .path(let path):
            let index = scope.contexts.count - 1 - path.depth
            guard index >= 0 else { return nil }
            return scope.contextOrigins[index].map { $0 + path.parts }
        }
    }

    /// Resolves `path`, returning nil where JavaScript would produce `undefined`.
    func resolve(_ path: PathExpression, in scope: RenderScope) -> JSONValue? {
        var parts = path.parts[...]
        var value: JSONValue?

        if path.isData {
            let index = scope.dataFrames.count - 1 - path.depth
            guard index >= 0 else { return nil }
            value = scope.dataFrames[index][parts.removeFirst()]
        } else {
            let index = scope.contexts.count - 1 - path.depth
            guard index >= 0 else { return nil }
            value = scope.contexts[index]
        }

        for part in parts {
            guard let container = value else { return nil }
            value = property(part, of: container)
        }
        return value
    }
}

/// Puts `indentation` before every line of `text`, except after a final line break, as
/// handlebars.js indents a standalone partial's output.
private func indent(_ text: Substring, with indentation: String) -> String {
    let bytes = Array(text.utf8)
    let prefix = Array(indentation.utf8)
    var result: [UInt8] = []
    result.reserveCapacity(bytes.count + prefix.count * 16)

    var lineStart = 0
    while true {
        let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
        let isEmptyLastLine = lineStart == lineEnd && lineEnd == bytes.count
        if !isEmptyLastLine { result += prefix }
        result += bytes[lineStart..<lineEnd]
        guard lineEnd < bytes.count else { break }
        result.append(UInt8(ascii: "\n"))
        lineStart = lineEnd + 1
    }
    return String(decoding: result, as: UTF8.self)
}

extension PathExpression {
    /// `this`, the current context.
    static let currentContext = PathExpression(original: "this", depth: 0, isData: false, parts: [])
}

/// The leading unescaped numbers and booleans of a program, which handlebars.js adds with
/// JavaScript's `+` (`true` counts as 1) instead of joining them.
private struct LeadingNumberSum {
    private var values: [JSONValue] = []

    /// Adds `value` when it is a number or boolean and returns true, or returns false.
    mutating func add(_ value: JSONValue) -> Bool {
        switch value {
        case .number, .bool:
            values.append(value)
            return true
        case .null, .string, .array, .object:
            return false
        }
    }

    /// The output: nothing for no value, the value itself for one, the sum for several.
    var text: String? {
        guard let first = values.first else { return nil }
        guard values.count > 1 else { return first.javaScriptString }
        let sum = values.reduce(0.0) { total, value in
            switch value {
            case .number(let number): return total + number
            case .bool(let flag): return total + (flag ? 1 : 0)
            case .null, .string, .array, .object: return total
            }
        }
        return javaScriptNumberString(sum)
    }
}
