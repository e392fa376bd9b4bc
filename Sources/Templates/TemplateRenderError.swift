/// A compiled template that could not be rendered with the given context and partials.
public struct TemplateRenderError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The name of the template whose rendering failed, which is a partial's name when the
    /// fault lies inside that partial.
    public var templateName: String
    /// The fault, as a clause without a final period, such as `the partial "footer" is not found`.
    public var reason: String
    /// The partial's name when the fault is a `{{> name}}` whose partial was not given.
    public var missingPartialName: String?

    public init(templateName: String, reason: String, missingPartialName: String? = nil) {
        self.templateName = templateName
        self.reason = reason
        self.missingPartialName = missingPartialName
    }

    public var description: String {
        "Template \"\(templateName)\" could not be rendered: \(reason)."
    }
}
