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
            SyntaxErrorCase("{{foo bar}}", #"line 1, column 1: {{foo bar}} calls the helper "foo", which does not exist; the helpers are if, unless, each, with and lookup."#),
            SyntaxErrorCase("{{#foo bar}}{{/foo}}", #"line 1, column 1: {{#foo}} calls the block helper "foo", which does not exist; the block helpers are if, unless, each and with."#),
            SyntaxErrorCase("{{#> layout}}x{{/layout}}", "line 1, column 1: partial blocks ({{#> name}}) and decorators ({{#* name}}) are not supported."),
            SyntaxErrorCase("{{> a b c}}", "line 1, column 1: {{> a}} has 2 context arguments; a partial takes at most one."),
            SyntaxErrorCase("{{> a x=}}", "line 1, column 1: the hash argument x= has no value."),
            SyntaxErrorCase("{{> a x=1 y}}", "line 1, column 1: the argument y follows a hash argument; write positional arguments before key=value pairs."),
            SyntaxErrorCase("{{> (concat a)}}", #"line 1, column 1: the helper "concat" does not exist; the helpers are if, unless, each, with and lookup."#),
            SyntaxErrorCase("{{lookup a}}", "line 1, column 1: lookup requires exactly two arguments, an object and a key."),
            SyntaxErrorCase("{{#with (lookup a b}}x{{/with}}", #"line 1, column 1: the subexpression lookup is not closed with ")"."#),
            SyntaxErrorCase("{{a)}}", #"line 1, column 1: ")" closes no subexpression."#),
            SyntaxErrorCase(#"{{#if "a}}x{{/if}}"#, #"line 1, column 1: the string literal "a is not closed with "."#),
            SyntaxErrorCase("{{#lookup a b}}x{{/lookup}}", "line 1, column 1: lookup returns a value and cannot open a block; write {{#with (lookup object key)}}."),
            SyntaxErrorCase("{{if a}}", "line 1, column 1: the block helper \"if\" is called without #; write {{#if …}}…{{/if}}."),
            SyntaxErrorCase("{{each}}", "line 1, column 1: the block helper \"each\" is called without #; write {{#each …}}…{{/each}}."),
            SyntaxErrorCase("{{#if a}}{{else if b}}{{/each}}", "line 1, column 23: {{/each}} closes {{#if}}."),
            SyntaxErrorCase("{{#if a}}{{else if b}}", "line 1, column 1: {{#if}} is never closed."),
            SyntaxErrorCase("{{#if a}}{{else if}}{{/if}}", "line 1, column 10: {{else if}} requires exactly one argument."),
            SyntaxErrorCase(
                "{{#if a}}{{else if b}}{{else}}{{else}}{{/if}}", "line 1, column 31: {{else if}} already has an {{else}}."),
            SyntaxErrorCase("{{#each a as |x|}}{{/each}}", "line 1, column 1: block parameters (as |name|) are not supported; use this, @index and @key."),
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
