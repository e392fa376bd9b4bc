import Templates
import Testing

/// A template that must fail to compile, with the whole error sentence it must produce.
struct SyntaxErrorCase: Sendable, CustomTestStringConvertible {
    var source: String
    var description: String

    init(_ source: String, _ description: String) {
        self.source = source
        self.description = description
    }

    var testDescription: String { source.debugDescription }
}

@Suite("Template syntax errors")
struct TemplateSyntaxErrorTests {
    @Test("error names the template, line and column")
    func errorLocation() {
        let source = "Hello\n{{#each items}}\n  x   {{/if}}"
        #expect(throws: TemplateError(templateName: "welcome", line: 3, column: 7, reason: "{{/if}} closes {{#each}}")) {
            try Template(name: "welcome", source: source)
        }

        do {
            _ = try Template(name: "welcome", source: source)
        } catch {
            #expect(error.description == #"Template "welcome" has a syntax error at line 3, column 7: {{/if}} closes {{#each}}."#)
        }
    }

    @Test(
        "error messages",
        arguments: [
            SyntaxErrorCase("{{#if a}}x", "line 1, column 1: {{#if}} is never closed."),
            SyntaxErrorCase("a{{/if}}", "line 1, column 2: {{/if}} closes no open block."),
            SyntaxErrorCase("a\n{{else}}", "line 2, column 1: {{else}} is outside any block."),
            SyntaxErrorCase("{{#each a}}{{else}}{{else}}{{/each}}", "line 1, column 20: {{#each}} already has an {{else}}."),
            SyntaxErrorCase("Hi {{name", "line 1, column 4: {{ is not closed with }}."),
            SyntaxErrorCase("Hi {{{name}}", "line 1, column 4: {{{ is not closed with }}}."),
            SyntaxErrorCase("{{!-- note }}", "line 1, column 1: {{!-- is not closed with --}}."),
            SyntaxErrorCase("{{#if}}{{/if}}", "line 1, column 1: {{#if}} requires exactly one argument."),
            SyntaxErrorCase("{{#each a b}}{{/each}}", "line 1, column 1: {{#each}} requires exactly one argument."),
            SyntaxErrorCase("{{foo.this}}", #"line 1, column 1: invalid path "foo.this"."#),
            SyntaxErrorCase("{{foo/../bar}}", #"line 1, column 1: invalid path "foo/../bar"."#),
            SyntaxErrorCase("{{foo.}}", #"line 1, column 1: the path "foo." ends with "."."#),
            SyntaxErrorCase("{{}}", "line 1, column 1: the tag {{}} is empty."),
            SyntaxErrorCase("{{foo bar}}", #"line 1, column 1: {{foo bar}} calls the helper "foo", which does not exist."#),
            SyntaxErrorCase("{{#foo bar}}{{/foo}}", #"line 1, column 1: {{#foo}} calls the block helper "foo", which does not exist."#),
            SyntaxErrorCase("{{> header}}", "line 1, column 1: partials ({{> name}}) are not supported yet."),
            SyntaxErrorCase("{{#if a}}{{else if b}}{{/each}}", "line 1, column 23: {{/each}} closes {{#if}}."),
            SyntaxErrorCase("{{#if a}}{{else if b}}", "line 1, column 1: {{#if}} is never closed."),
            SyntaxErrorCase("{{#if a}}{{else if}}{{/if}}", "line 1, column 10: {{else if}} requires exactly one argument."),
            SyntaxErrorCase(
                "{{#if a}}{{else if b}}{{else}}{{else}}{{/if}}", "line 1, column 31: {{else if}} already has an {{else}}."),
            SyntaxErrorCase("{{#if true}}x{{/if}}", "line 1, column 1: literal arguments such as true are not supported yet."),
            SyntaxErrorCase("{{#with 0}}x{{/with}}", "line 1, column 1: literal arguments such as 0 are not supported yet."),
            SyntaxErrorCase("{{#each a as |x|}}{{/each}}", "line 1, column 1: block parameters (as |name|) are not supported yet."),
            SyntaxErrorCase("é\t{{/x}}", "line 1, column 3: {{/x}} closes no open block."),
        ])
    func errorMessages(_ testCase: SyntaxErrorCase) {
        do {
            _ = try Template(name: "t", source: testCase.source)
            Issue.record("compiled without an error")
        } catch {
            #expect(error.description == #"Template "t" has a syntax error at "# + testCase.description)
        }
    }
}
