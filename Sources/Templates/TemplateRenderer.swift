import DocumentStore

/// The contexts and data variables visible at one point of rendering.
struct RenderScope {
    /// The context stack, innermost last, which `../` walks outwards.
    var contexts: [JSONValue]
    /// Data variables such as `index` and `root`, read as `@index` and `@root`.
    var data: [String: JSONValue]

    init(root: JSONValue) {
        self.contexts = [root]
        self.data = ["root": root]
    }

    var current: JSONValue { contexts[contexts.count - 1] }

    /// Returns the scope with `context` as `this`. Helpers that keep the current context (`if`,
    /// `unless`) do not call this, so, as in handlebars.js, they add no level for `../`.
    func entering(_ context: JSONValue) -> RenderScope {
        var scope = self
        scope.contexts.append(context)
        return scope
    }
}

/// Renders a syntax tree with the semantics of handlebars.js 4.7 and its built-in helpers.
struct TemplateRenderer {
    let root: JSONValue

    func render(_ nodes: [TemplateNode], in scope: RenderScope, into output: inout String) {
        for node in nodes {
            switch node {
            case .text(let text):
                output += text
            case .value(let path, let escaped):
                // handlebars.js prints `null` and `undefined` as nothing, every other value as
                // JavaScript's `String(value)` would.
                guard let value = resolve(path, in: scope), value != .null else { continue }
                let text = value.javaScriptString
                output += escaped ? escapeHTML(text) : text
            case .block(let block):
                render(block, in: scope, into: &output)
            }
        }
    }

    private func render(_ block: BlockNode, in scope: RenderScope, into output: inout String) {
        let value = resolve(block.argument, in: scope)

        switch block.helper {
        case .if:
            let branch = isTruthyForIf(value) ? block.program : block.inverse
            render(branch, in: scope, into: &output)

        case .unless:
            let branch = isTruthyForIf(value) ? block.inverse : block.program
            render(branch, in: scope, into: &output)

        case .with:
            if let value, !isEmpty(value) {
                render(block.program, in: scope.entering(value), into: &output)
            } else {
                render(block.inverse, in: scope, into: &output)
            }

        case .each:
            let didIterate = renderEach(value, program: block.program, in: scope, into: &output)
            if !didIterate {
                render(block.inverse, in: scope, into: &output)
            }

        case .section:
            renderSection(value, block, in: scope, into: &output)
        }
    }

    /// Renders a block whose name is not a helper, as handlebars.js `blockHelperMissing` does.
    /// `true` keeps the context. `false`, `null`, a missing value and an empty array render the
    /// inverse. An array iterates as `#each`. Any other value, `0` and `""` included, becomes
    /// the context.
    private func renderSection(_ value: JSONValue?, _ block: BlockNode, in scope: RenderScope, into output: inout String) {
        switch value {
        case .bool(true):
            render(block.program, in: scope, into: &output)
        case nil, .null, .bool(false):
            render(block.inverse, in: scope, into: &output)
        case .array(let elements) where elements.isEmpty:
            render(block.inverse, in: scope, into: &output)
        case .array:
            _ = renderEach(value, program: block.program, in: scope, into: &output)
        case .some(let context):
            render(block.program, in: scope.entering(context), into: &output)
        }
    }

    /// Renders `program` once per element or property, setting `@index`, `@key`, `@first` and
    /// `@last`. Returns false when nothing was iterated, so the caller renders the inverse.
    private func renderEach(_ value: JSONValue?, program: [TemplateNode], in scope: RenderScope, into output: inout String) -> Bool {
        let items: [(key: JSONValue, value: JSONValue)]
        switch value {
        case .array(let elements):
            items = elements.enumerated().map { (.number(Double($0.offset)), $0.element) }
        case .object(let object):
            items = orderedKeys(of: object).map { (.string($0), object[$0]!) }
        default:
            return false
        }

        for (index, item) in items.enumerated() {
            var iterationScope = scope.entering(item.value)
            iterationScope.data["key"] = item.key
            iterationScope.data["index"] = .number(Double(index))
            iterationScope.data["first"] = .bool(index == 0)
            iterationScope.data["last"] = .bool(index == items.count - 1)
            render(program, in: iterationScope, into: &output)
        }
        return !items.isEmpty
    }

    /// Resolves `path`, returning nil where JavaScript would produce `undefined`.
    func resolve(_ path: PathExpression, in scope: RenderScope) -> JSONValue? {
        var parts = path.parts[...]
        var value: JSONValue?

        if path.isData {
            value = scope.data[parts.removeFirst()]
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

/// Returns the own property `name` of `value` in JavaScript terms: an object's field, an array's element
/// or `length`, or a string's `length`.
func property(_ name: String, of value: JSONValue) -> JSONValue? {
    switch value {
    case .object(let object):
        return object[name]
    case .array(let elements):
        if name == "length" { return .number(Double(elements.count)) }
        guard let index = arrayIndex(name), index < elements.count else { return nil }
        return elements[index]
    case .string(let text):
        // NOTE: JavaScript also exposes a string's UTF-16 code units as `0`, `1`, ...; they are
        // not supported here.
        return name == "length" ? .number(Double(text.utf16.count)) : nil
    case .null, .bool, .number:
        return nil
    }
}

/// Returns the index that `name` denotes as an array property: decimal digits without a leading zero.
func arrayIndex(_ name: String) -> Int? {
    guard let first = name.first, first.isASCII, first.isNumber else { return nil }
    guard name == "0" || first != "0" else { return nil }
    guard name.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    return Int(name)
}

/// Returns the keys of `object` in the order that `#each` visits them. JavaScript visits array-index keys in
/// ascending order, then the other keys in insertion order.
///
/// NOTE: `JSONObject` does not keep insertion order, so the keys that are not array indices
/// come in code-point order here, which can differ from handlebars.js for the same document.
func orderedKeys(of object: JSONObject) -> [String] {
    let indexKeys = object.keys.compactMap { key in arrayIndex(key).map { (key, $0) } }
        .sorted { $0.1 < $1.1 }
        .map(\.0)
    let otherKeys = object.keys.filter { arrayIndex($0) == nil }
        .sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
    return indexKeys + otherKeys
}

/// Returns the condition of the `if` and `unless` helpers. `false`, `null`, a missing value, `0`, `NaN`,
/// `""` and `[]` are false, and everything else, `{}` included, is true.
func isTruthyForIf(_ value: JSONValue?) -> Bool {
    guard let value else { return false }
    switch value {
    case .null: return false
    case .bool(let flag): return flag
    case .number(let number): return number != 0 && !number.isNaN
    case .string(let text): return !text.isEmpty
    case .array(let elements): return !elements.isEmpty
    case .object: return true
    }
}

/// Returns whether `value` is empty as handlebars.js `Utils.isEmpty` decides, which `with`
/// uses. It matches `isTruthyForIf` except that `0` is not empty.
func isEmpty(_ value: JSONValue) -> Bool {
    if case .number(let number) = value, number == 0 { return false }
    return !isTruthyForIf(value)
}
