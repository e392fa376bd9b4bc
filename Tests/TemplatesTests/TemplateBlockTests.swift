import DocumentStore
import Templates
import Testing

@Suite("Template blocks")
struct TemplateBlockTests {
    @Test(
        "if treats false, null, 0, empty string and empty array as false",
        arguments: [
            ("true", "yes"), ("false", "no"), ("null", "no"), ("0", "no"), ("1", "yes"), ("-1", "yes"),
            (#""""#, "no"), (#""a""#, "yes"), ("[]", "no"), ("[0]", "yes"), ("{}", "yes"),
        ])
    func ifTruthiness(_ value: String, _ expected: String) throws {
        let testCase = RenderCase("{{#if x}}yes{{else}}no{{/if}}", #"{"x": \#(value)}"#, expected)
        #expect(try testCase.render() == expected)
    }

    @Test(
        "if, unless and with",
        arguments: [
            RenderCase("{{#if x}}yes{{else}}no{{/if}}", "{}", "no"),
            RenderCase("{{#if x}}yes{{/if}}", #"{"x": false}"#, ""),
            RenderCase("{{#if x}}{{name}}{{/if}}", #"{"x": true, "name": "Ada"}"#, "Ada"),
            RenderCase("{{#unless x}}yes{{else}}no{{/unless}}", #"{"x": 0}"#, "yes"),
            RenderCase("{{#unless x}}yes{{else}}no{{/unless}}", #"{"x": "a"}"#, "no"),
            RenderCase("{{#with person}}{{name}}{{else}}none{{/with}}", #"{"person": {"name": "Ada"}}"#, "Ada"),
            RenderCase("{{#with person}}{{name}}{{else}}none{{/with}}", #"{"person": null}"#, "none"),
            RenderCase("{{#with person}}{{name}}{{else}}none{{/with}}", #"{"person": ""}"#, "none"),
            RenderCase("{{#with person}}{{name}}{{else}}none{{/with}}", #"{"person": []}"#, "none"),
            RenderCase("{{#with n}}[{{this}}]{{/with}}", #"{"n": 0}"#, "[0]"),
            RenderCase("{{#with n}}[{{this}}]{{/with}}", #"{"n": false}"#, ""),
            RenderCase(
                "{{#with a}}{{#if flag}}{{../title}}{{/if}}{{/with}}",
                #"{"title": "T", "a": {"flag": true, "title": "inner"}}"#, "T"),
            RenderCase("{{^if x}}no{{else}}yes{{/if}}", #"{"x": 1}"#, "yes"),
        ])
    func conditionals(_ testCase: RenderCase) throws {
        #expect(try testCase.render() == testCase.expected)
    }

    @Test(
        "else chains",
        arguments: [
            RenderCase("{{#if a}}A{{else if b}}B{{else}}C{{/if}}", #"{"a": true}"#, "A"),
            RenderCase("{{#if a}}A{{else if b}}B{{else}}C{{/if}}", #"{"b": true}"#, "B"),
            RenderCase("{{#if a}}A{{else if b}}B{{else}}C{{/if}}", "{}", "C"),
            RenderCase("{{#if a}}A{{else if b}}B{{/if}}", "{}", ""),
            RenderCase("{{#if a}}A{{else unless b}}not b{{/if}}", "{}", "not b"),
            RenderCase("{{#if a}}A{{else with p}}{{name}}{{/if}}", #"{"p": {"name": "Ada"}}"#, "Ada"),
            RenderCase("{{#each items}}{{this}}{{else if fallback}}{{fallback}}{{/each}}", #"{"items": [], "fallback": "none"}"#, "none"),
            RenderCase("{{#if a}}\nA\n{{else if b}}\nB\n{{else}}\nC\n{{/if}}\n", #"{"b": 1}"#, "B\n"),
        ])
    func elseChains(_ testCase: RenderCase) throws {
        #expect(try testCase.render() == testCase.expected)
    }

    @Test(
        "each",
        arguments: [
            RenderCase(
                "{{#each items}}{{@index}}:{{this}}{{#if @first}}(first){{/if}}{{#if @last}}(last){{/if}} {{/each}}",
                #"{"items": ["a", "b", "c"]}"#, "0:a(first) 1:b 2:c(last) "),
            RenderCase("{{#each items}}{{@key}}{{/each}}", #"{"items": ["a", "b"]}"#, "01"),
            RenderCase("{{#each items}}{{name}},{{/each}}", #"{"items": [{"name": "Ada"}, {"name": "Bob"}]}"#, "Ada,Bob,"),
            RenderCase(
                "{{#each prices}}{{@key}}={{this}}{{#if @last}}.{{else}},{{/if}}{{/each}}",
                #"{"prices": {"a": 1, "b": 2, "10": 3, "2": 4}}"#, "2=4,10=3,a=1,b=2."),
            RenderCase("{{#each items}}{{../prefix}}{{this}} {{/each}}", #"{"prefix": "-", "items": [1, 2]}"#, "-1 -2 "),
            RenderCase("{{#each items}}{{@root.prefix}}{{this}}{{/each}}", #"{"prefix": "-", "items": [1]}"#, "-1"),
            RenderCase("{{#each rows}}{{#each this}}{{@index}}{{/each}};{{/each}}", #"{"rows": [["a", "b"], ["c"]]}"#, "01;0;"),
            RenderCase("{{#each items}}x{{else}}empty{{/each}}", #"{"items": []}"#, "empty"),
            RenderCase("{{#each items}}x{{else}}empty{{/each}}", #"{"items": {}}"#, "empty"),
            RenderCase("{{#each items}}x{{else}}empty{{/each}}", "{}", "empty"),
            RenderCase("{{#each items}}x{{else}}empty{{/each}}", #"{"items": "abc"}"#, "empty"),
            RenderCase("{{#each items}}x{{else}}empty{{/each}}", #"{"items": 3}"#, "empty"),
            RenderCase("{{#each items}}[{{this}}]{{/each}}", #"{"items": [null, 0, false]}"#, "[][0][false]"),
        ])
    func each(_ testCase: RenderCase) throws {
        #expect(try testCase.render() == testCase.expected)
    }

    @Test(
        "sections without a helper",
        arguments: [
            RenderCase("{{#person}}{{name}}{{/person}}", #"{"person": {"name": "Ada"}}"#, "Ada"),
            RenderCase("{{#flag}}yes{{/flag}}", #"{"flag": true}"#, "yes"),
            RenderCase("{{#flag}}yes{{else}}no{{/flag}}", #"{"flag": false}"#, "no"),
            RenderCase("{{#n}}[{{this}}]{{/n}}", #"{"n": 0}"#, "[0]"),
            RenderCase("{{#s}}[{{this}}]{{/s}}", #"{"s": ""}"#, "[]"),
            RenderCase("{{#list}}{{@index}}{{this}}{{/list}}", #"{"list": ["a", "b"]}"#, "0a1b"),
            RenderCase("{{^items}}none{{/items}}", #"{"items": []}"#, "none"),
            RenderCase("{{^n}}none{{/n}}", #"{"n": 0}"#, ""),
            RenderCase("{{^missing}}none{{else}}some{{/missing}}", "{}", "none"),
            RenderCase("{{^flag}}none{{else}}some{{/flag}}", #"{"flag": true}"#, "some"),
        ])
    func sections(_ testCase: RenderCase) throws {
        #expect(try testCase.render() == testCase.expected)
    }
}
