import DocumentStore

/// The contexts and data variables visible at one point of rendering.
struct RenderScope {
    /// The context stack, innermost last, which `../` walks outwards.
    private(set) var contexts: [JSONValue]
    /// The place of each context in the root context, as the keys that lead to it, a marker for
    /// an object the renderer built, or nil for a literal. JSON values have no identity, and handlebars.js compares contexts by
    /// identity, so two contexts are the same object when they share an origin.
    private(set) var contextOrigins: [[String]?]
    /// The data frames, innermost last, which hold `@index`, `@key`, `@first`, `@last` and
    /// `@root`. `#each` adds one, which `@../index` walks outwards.
    private(set) var dataFrames: [[String: JSONValue]]

    init(root: JSONValue) {
        self.contexts = [root]
        self.contextOrigins = [[]]
        self.dataFrames = [["root": root]]
    }

    var current: JSONValue { contexts[contexts.count - 1] }

    /// Returns the scope with `context`, found at `origin`, as `this`. As in handlebars.js, the
    /// current context itself adds no level for `../`, which is why `if` and `unless` add none.
    func entering(_ context: JSONValue, origin: [String]?) -> RenderScope {
        if isSameContext(context, origin: origin) { return self }

        var scope = self
        scope.contexts.append(context)
        scope.contextOrigins.append(origin)
        return scope
    }

    /// Returns the scope for a built-in helper's block. handlebars.js calls a helper with
    /// `this` set to an empty object when the context is null, so `{{this}}` in such a block
    /// prints `[object Object]`. No level is added for `../`.
    func asHelperContext() -> RenderScope {
        guard case .null = current else { return self }
        var scope = self
        scope.contexts[scope.contexts.count - 1] = .object([:])
        scope.contextOrigins[scope.contextOrigins.count - 1] = ["\u{0}empty context"]
        return scope
    }

    /// Returns the scope of a partial rendered with `context`: handlebars.js, without its
    /// `compat` option, passes a partial no outer contexts, so `../` in a partial finds
    /// nothing, but the data variables stay.
    func enteringPartial(_ context: JSONValue, origin: [String]?) -> RenderScope {
        var scope = self
        scope.contexts = [context]
        scope.contextOrigins = [origin]
        return scope
    }

    /// Returns whether `context` is the current context, as handlebars.js decides with `!=`:
    /// objects and arrays by identity, other values by loose equality.
    private func isSameContext(_ context: JSONValue, origin: [String]?) -> Bool {
        switch context {
        case .object, .array:
            guard let origin, let currentOrigin = contextOrigins[contextOrigins.count - 1] else { return false }
            return origin == currentOrigin
        case .null, .bool, .number, .string:
            return isLooselyEqualPrimitive(context, current)
        }
    }

    /// Returns the scope with a new data frame that copies the current one and sets `variables`.
    func addingDataFrame(_ variables: [String: JSONValue]) -> RenderScope {
        var scope = self
        scope.dataFrames.append(dataFrames[dataFrames.count - 1].merging(variables) { $1 })
        return scope
    }
}

/// Returns whether JavaScript's `a == b` holds for two primitive values (not objects or arrays),
/// comparing a number with a string or a boolean by number, as `!=` in handlebars.js's
/// runtime does.
private func isLooselyEqualPrimitive(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.string(let x), .string(let y)): return x == y
    case (.number(let x), .number(let y)): return x == y
    case (.number(let x), .string), (.number(let x), .bool): return b.javaScriptNumber == x
    case (.string, .number(let y)), (.bool, .number(let y)): return a.javaScriptNumber == y
    case (.string, .bool), (.bool, .string): return a.javaScriptNumber == b.javaScriptNumber
    default: return false
    }
}
