import DocumentStore
import Templates
import Testing

@Suite("Template whitespace control")
struct TemplateWhitespaceTests {
    @Test(
        "tilde strips all whitespace on its side",
        arguments: [
            RenderCase("a  {{~name~}}  b", #"{"name": "Ada"}"#, "aAdab"),
            RenderCase("a \n {{~name}} \n b", #"{"name": "Ada"}"#, "aAda \n b"),
            RenderCase("{{#each items~}}\n  {{this}}\n{{~/each}}", #"{"items": ["a", "b"]}"#, "ab"),
            RenderCase("x {{~! comment ~}} y", "{}", "xy"),
            RenderCase("x {{~!-- comment --~}} y", "{}", "xy"),
            RenderCase(" a {{~{raw}~}} b ", #"{"raw": "<b>"}"#, " a<b>b "),
            RenderCase("{{#if x}} yes {{~else~}} no {{/if}}", #"{"x": false}"#, "no "),
        ])
    func tilde(_ testCase: RenderCase) throws {
        #expect(try testCase.render() == testCase.expected)
    }

    @Test(
        "standalone tags remove their line",
        arguments: [
            RenderCase(
                "<ul>\n  {{#each items}}\n  <li>{{this}}</li>\n  {{/each}}\n</ul>\n",
                #"{"items": ["a", "b"]}"#, "<ul>\n  <li>a</li>\n  <li>b</li>\n</ul>\n"),
            RenderCase("{{#if x}}\nyes\n{{else}}\nno\n{{/if}}\n", #"{"x": false}"#, "no\n"),
            RenderCase("a\n  {{! note }}\nb", "{}", "a\nb"),
            RenderCase("a\r\n{{#x}}\r\nb\r\n{{/x}}\r\n", #"{"x": true}"#, "a\r\nb\r\n"),
            RenderCase("  {{name}}\n", #"{"name": "Ada"}"#, "  Ada\n"),
            RenderCase("a {{#x}}b{{/x}} c\n", #"{"x": true}"#, "a b c\n"),
        ])
    func standalone(_ testCase: RenderCase) throws {
        #expect(try testCase.render() == testCase.expected)
    }
}
