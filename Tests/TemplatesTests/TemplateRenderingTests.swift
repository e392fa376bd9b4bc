import DocumentStore
import Templates
import Testing

@Suite("Template rendering")
struct TemplateRenderingTests {
    @Test(
        "paths",
        arguments: [
            RenderCase("Hello {{name}}!", #"{"name": "Ada"}"#, "Hello Ada!"),
            RenderCase("{{person.name}}", #"{"person": {"name": "Ada"}}"#, "Ada"),
            RenderCase("{{person/name}}", #"{"person": {"name": "Ada"}}"#, "Ada"),
            RenderCase("{{this.name}} {{./name}} {{this/name}}", #"{"name": "Ada"}"#, "Ada Ada Ada"),
            RenderCase("{{.}} {{this}}", #""x""#, "x x"),
            RenderCase("{{[first name]}}", #"{"first name": "Ada"}"#, "Ada"),
            RenderCase("[{{missing}}][{{missing.deep.path}}][{{name.deep}}]", #"{"name": "Ada"}"#, "[][][]"),
            RenderCase("{{items.length}} {{items.[1]}} {{name.length}}", #"{"items": ["a", "b"], "name": "Ada"}"#, "2 b 3"),
            RenderCase("{{#with person}}{{../title}} {{name}}{{/with}}", #"{"title": "Dr", "person": {"name": "Ada"}}"#, "Dr Ada"),
            RenderCase("[{{../name}}]", #"{"name": "Ada"}"#, "[]"),
            RenderCase("{{@root.title}}", #"{"title": "T"}"#, "T"),
        ])
    func paths(_ testCase: RenderCase) throws {
        #expect(try testCase.render() == testCase.expected)
    }

    @Test(
        "HTML escaping",
        arguments: [
            RenderCase("{{text}}", #"{"text": "&<>\"'`= plain"}"#, "&amp;&lt;&gt;&quot;&#x27;&#x60;&#x3D; plain"),
            RenderCase("{{{text}}}", #"{"text": "&<>\"'`="}"#, "&<>\"'`="),
            RenderCase("{{& text}}|{{&text}}", #"{"text": "<b>"}"#, "<b>|<b>"),
            RenderCase("{{text}}", #"{"text": "café ✓"}"#, "café ✓"),
            RenderCase("{{items}}", #"{"items": ["<a>", "b"]}"#, "&lt;a&gt;,b"),
        ])
    func htmlEscaping(_ testCase: RenderCase) throws {
        #expect(try testCase.render() == testCase.expected)
    }

    @Test(
        "values print as JavaScript prints them",
        arguments: [
            RenderCase("{{v}}", #"{"v": true}"#, "true"),
            RenderCase("{{v}}", #"{"v": false}"#, "false"),
            RenderCase("{{v}}", #"{"v": null}"#, ""),
            RenderCase("{{{v}}}", #"{"v": null}"#, ""),
            RenderCase("{{v}}", #"{"v": 0}"#, "0"),
            RenderCase("{{v}}", #"{"v": -0.0}"#, "0"),
            RenderCase("{{v}}", #"{"v": 1}"#, "1"),
            RenderCase("{{v}}", #"{"v": 1.5}"#, "1.5"),
            RenderCase("{{v}}", #"{"v": -2.5}"#, "-2.5"),
            RenderCase("{{v}}", #"{"v": 100}"#, "100"),
            RenderCase("{{v}}", #"{"v": 0.1}"#, "0.1"),
            RenderCase("{{v}}", #"{"v": 0.000001}"#, "0.000001"),
            RenderCase("{{v}}", #"{"v": 1e-7}"#, "1e-7"),
            RenderCase("{{v}}", #"{"v": 1.25e-10}"#, "1.25e-10"),
            RenderCase("{{v}}", #"{"v": 123456789012345680000}"#, "123456789012345680000"),
            RenderCase("{{v}}", #"{"v": 1e21}"#, "1e+21"),
            RenderCase("{{v}}", #"{"v": 1.5e300}"#, "1.5e+300"),
            RenderCase("{{v}}", #"{"v": 9007199254740993}"#, "9007199254740992"),
            RenderCase("{{v}}", #"{"v": [1, "a", null, [2, 3], true]}"#, "1,a,,2,3,true"),
            RenderCase("{{v}}", #"{"v": []}"#, ""),
            RenderCase("{{v}}", #"{"v": {"a": 1}}"#, "[object Object]"),
        ])
    func values(_ testCase: RenderCase) throws {
        #expect(try testCase.render() == testCase.expected)
    }

    @Test(
        "escaped mustaches",
        arguments: [
            RenderCase(#"a \{{name}} b"#, #"{"name": "Ada"}"#, "a {{name}} b"),
            RenderCase(#"\{{name}}{{name}}"#, #"{"name": "Ada"}"#, "{{name}}Ada"),
            RenderCase(#"a \\{{name}} b"#, #"{"name": "Ada"}"#, #"a \Ada b"#),
            RenderCase(#"a \ {{name}}"#, #"{"name": "Ada"}"#, #"a \ Ada"#),
        ])
    func escapedMustaches(_ testCase: RenderCase) throws {
        #expect(try testCase.render() == testCase.expected)
    }

    @Test(
        "comments",
        arguments: [
            RenderCase("a{{! note }}b", "{}", "ab"),
            RenderCase("a{{!-- contains }} and {{name}} --}}b", "{}", "ab"),
            RenderCase("a{{!}}b", "{}", "ab"),
        ])
    func comments(_ testCase: RenderCase) throws {
        #expect(try testCase.render() == testCase.expected)
    }

    @Test("rendering twice gives the same output")
    func renderingIsRepeatable() throws {
        let template = try Template(name: "greeting", source: "Hi {{name}}")

        #expect(try template.render(["name": "Ada"]) == "Hi Ada")
        #expect(try template.render(["name": "Bob"]) == "Hi Bob")
        #expect(template.name == "greeting")
    }
}
