import DocumentStore
import Templates
import Testing

/// Expected outputs come from handlebars.js 4.7.8.
@Suite("Template partials, lookup and literals")
struct TemplatePartialTests {
    @Test(
        "partials",
        arguments: [
            RenderCase("{{> p}}", #"{"a": "x"}"#, "[x]", partials: ["p": "[{{a}}]"]),
            RenderCase("{{> p b}}", #"{"a": "x", "b": {"a": "y"}}"#, "[y]", partials: ["p": "[{{a}}]"]),
            RenderCase(#"{{> p a="z"}}"#, #"{"a": "x", "c": 1}"#, "[z1]", partials: ["p": "[{{a}}{{c}}]"]),
            RenderCase("{{> p b a=1}}", #"{"a": "x", "b": {"a": "y", "c": 2}}"#, "[12]", partials: ["p": "[{{a}}{{c}}]"]),
            // A partial gets no outer contexts, so `../t` is empty, but `@root` stays.
            RenderCase(
                "{{#with b}}{{> p}}{{/with}}", #"{"t": "T", "b": {"a": "y"}}"#, "y|T",
                partials: ["p": "{{a}}{{../t}}|{{@root.t}}"]),
            RenderCase(
                "{{#each l}}{{> p}}{{/each}}", #"{"l": ["a", "b"]}"#, "0a1b!",
                partials: ["p": "{{@index}}{{this}}{{#if @last}}!{{/if}}"]),
            RenderCase("{{> p x=(lookup l 1)}}", #"{"l": ["a", "b"]}"#, "b", partials: ["p": "{{x}}"]),
            RenderCase(#"{{> "my p"}}|{{> [my p]}}"#, "{}", "S|S", partials: ["my p": "S"]),
            RenderCase(#"{{> (lookup . "w")}}"#, #"{"w": "q"}"#, "Q", partials: ["q": "Q"]),
            RenderCase(#"{{> p "lit"}}"#, "{}", "lit3", partials: ["p": "{{this}}{{length}}"]),
            RenderCase("{{> p l}}", #"{"l": ["q", "r"]}"#, "q2", partials: ["p": "{{[0]}}{{length}}"]),
            RenderCase("{{> p l z=1}}", #"{"l": ["q", "r"]}"#, "q1", partials: ["p": "{{[0]}}{{length}}{{z}}"]),
            RenderCase("x {{~> p~}} y", "{}", "x P y", partials: ["p": " P "]),
            RenderCase("{{> outer}}", #"{"a": 1, "b": 2}"#, "<1 [2]>", partials: ["outer": "<{{a}} {{> inner}}>", "inner": "[{{b}}]"]),
        ])
    func partials(_ testCase: RenderCase) throws {
        #expect(try testCase.render() == testCase.expected)
    }

    @Test(
        "standalone partials indent their output",
        arguments: [
            RenderCase("a\n  {{> p}}\nb", "{}", "a\n  1\n  2\nb", partials: ["p": "1\n2\n"]),
            RenderCase("a\n  {{> p}}\nb", #"{"v": "x\ny"}"#, "a\n  x\n  y\nb", partials: ["p": "{{v}}\n"]),
            RenderCase("{{#each l}}\n  {{> p}}\n{{/each}}", #"{"l": [1, 2]}"#, "  <1>\n  <2>\n", partials: ["p": "<{{this}}>\n"]),
            RenderCase("a\r\n\t{{> p}}\r\nb", "{}", "a\r\n\t1\r\n\t2\r\nb", partials: ["p": "1\r\n2\r\n"]),
        ])
    func standalonePartials(_ testCase: RenderCase) throws {
        #expect(try testCase.render() == testCase.expected)
    }

    @Test("missing partial names the partial and the caller")
    func missingPartial() throws {
        let template = try Template(name: "welcome", source: "Hi {{> footer}}")

        #expect(throws: TemplateRenderError(templateName: "welcome", reason: #"the partial "footer" is not found"#, missingPartialName: "footer")) {
            try template.render(.object([:]))
        }
    }

    @Test("partial that includes itself stops at the depth limit")
    func recursivePartial() throws {
        let template = try Template(name: "main", source: "{{> loop}}")
        let loop = try Template(name: "loop", source: "x{{> loop}}")

        do {
            _ = try template.render(.object([:]), partials: ["loop": loop])
            Issue.record("a partial that includes itself rendered without an error")
        } catch {
            #expect(error.templateName == "loop")
            #expect(error.reason.contains("more than \(TemplateLimits.maximumPartialDepth) deep"))
        }
    }

    @Test("output larger than the limit is an error")
    func outputLimit() throws {
        let chunk = String(repeating: "x", count: 1024)
        let items = JSONValue.array(Array(repeating: .string(chunk), count: 1024))
        let template = try Template(name: "big", source: "{{#each items}}{{#each ../items}}{{this}}{{/each}}{{/each}}")

        do {
            _ = try template.render(.object(["items": items]))
            Issue.record("a 1 GiB output rendered without an error")
        } catch {
            #expect(error.templateName == "big")
            #expect(error.reason.contains("exceeds \(TemplateLimits.maximumOutputBytes) bytes"))
        }
    }

    @Test("blocks nested too deep fail to compile")
    func deepNesting() {
        let depth = TemplateLimits.maximumBlockDepth + 1
        let source = String(repeating: "{{#if a}}", count: depth) + "x" + String(repeating: "{{/if}}", count: depth)

        #expect(throws: TemplateError(
            templateName: "deep", line: 1, column: 9 * (depth - 1) + 1,
            reason: "blocks are nested more than \(TemplateLimits.maximumBlockDepth) deep")) {
            try Template(name: "deep", source: source)
        }
        #expect(throws: TemplateError.self) {
            try Template(name: "deeper", source: String(repeating: "{{#if a}}", count: 50_000))
        }
    }

    @Test("partials that nest blocks stop before the stack runs out")
    func partialsNestingBlocks() throws {
        let levels = TemplateLimits.maximumBlockDepth
        let recursive = try Template(
            name: "rec", source: String(repeating: "{{#if a}}", count: levels) + "{{> rec}}" + String(repeating: "{{/if}}", count: levels))

        do {
            _ = try recursive.render(.object(["a": true]), partials: ["rec": recursive])
            Issue.record("a partial nesting blocks without end rendered")
        } catch {
            #expect(error.reason.contains("nested more than"))
        }
    }

    @Test("exponential partial calls stop at the step limit")
    func renderStepLimit() throws {
        let twice = try Template(name: "p2", source: "{{#with a}}{{> p2}}{{> p2}}{{/with}}")
        var data: JSONValue = .object([:])
        for _ in 0..<40 {
            data = .object(["a": data])
        }

        do {
            _ = try twice.render(data, partials: ["p2": twice])
            Issue.record("2^40 partial calls rendered")
        } catch {
            #expect(error.reason.contains("more than \(TemplateLimits.maximumRenderSteps) steps"))
        }
    }

    @Test("indenting a partial respects the output limit")
    func indentationOutputLimit() throws {
        let lines = try Template(name: "lines", source: String(repeating: "\n", count: 20_000))
        let main = try Template(name: "main", source: String(repeating: " ", count: 1_000) + "{{> lines}}\n")

        do {
            _ = try main.render(.object([:]), partials: ["lines": lines])
            Issue.record("a 20 MB indented partial rendered")
        } catch {
            #expect(error.reason.contains("exceeds \(TemplateLimits.maximumOutputBytes) bytes"))
        }
    }

    @Test(
        "lookup",
        arguments: [
            RenderCase(#"{{lookup l 1}}{{lookup o k}}{{lookup o "k"}}"#, #"{"l": ["a", "b"], "o": {"k": "K", "v": "V"}, "k": "v"}"#, "bVK"),
            RenderCase(#"{{lookup 0 "a"}}|{{lookup missing "a"}}|{{lookup l "length"}}"#, #"{"l": [1, 2, 3]}"#, "0||3"),
            RenderCase("{{#with (lookup o k)}}{{n}}{{/with}}", #"{"o": {"a": {"n": 5}}, "k": "a"}"#, "5"),
            RenderCase(#"{{#each (lookup o "a")}}{{this}},{{/each}}"#, #"{"o": {"a": [1, 2]}}"#, "1,2,"),
            RenderCase("{{lookup (lookup o k) 0}}", #"{"o": {"a": ["<&>"]}, "k": "a"}"#, "&lt;&amp;&gt;"),
        ])
    func lookup(_ testCase: RenderCase) throws {
        #expect(try testCase.render() == testCase.expected)
    }

    @Test(
        "literals and includeZero",
        arguments: [
            RenderCase(
                "{{#if 0 includeZero=true}}y{{else}}n{{/if}}{{#if z includeZero=true}}y{{else}}n{{/if}}{{#if z}}y{{else}}n{{/if}}{{#unless z includeZero=true}}u{{/unless}}",
                #"{"z": 0}"#, "yyn"),
            RenderCase(#"{{#if true}}T{{/if}}{{#if ""}}E{{else}}e{{/if}}{{#with 5}}{{this}}{{/with}}{{#each "ab"}}x{{else}}none{{/each}}"#, "{}", "Te5none"),
            RenderCase(#"{{true}}|{{1}}|{{"a b"}}|{{null}}"#, #"{"true": "T", "1": "one", "a b": "AB", "null": "N"}"#, "T|one|AB|N"),
            RenderCase(#"{{> p x='it\'s'}}"#, "{}", "it&#x27;s", partials: ["p": "{{x}}"]),
        ])
    func literals(_ testCase: RenderCase) throws {
        #expect(try testCase.render() == testCase.expected)
    }

    @Test(
        "contexts and data frames",
        arguments: [
            RenderCase(
                "{{#each o}}{{#each this}}{{@../index}}.{{@index}}:{{@../key}}/{{@key}} {{/each}}{{/each}}",
                #"{"o": {"x": [1, 2], "y": [3]}}"#, "0.0:x/0 0.1:x/1 1.0:y/0 "),
            // The same object as the current context adds no level for `../`.
            RenderCase("{{#with this}}{{../x}}{{/with}}|{{#with o}}{{#with ../o}}{{../../x}}{{/with}}{{/with}}", #"{"x": "X", "o": {"a": 1}}"#, "|"),
            RenderCase("{{#with @root}}{{../x}}{{/with}}", #"{"x": "X"}"#, ""),
            RenderCase("{{#each l}}{{#with ../l}}[{{../this}}]{{/with}}{{/each}}", #"{"l": [1, 2]}"#, "[1][2]"),
            RenderCase("{{#with a}}{{#with ../b}}{{../../x}}{{/with}}{{/with}}", #"{"x": "X", "a": {"n": 1}, "b": {"n": 1}}"#, "X"),
        ])
    func contexts(_ testCase: RenderCase) throws {
        #expect(try testCase.render() == testCase.expected)
    }

    /// JavaScript engines visit integer-like keys in ascending order first. The store keeps the
    /// other keys in code-point order, so `#each` visits them in that order.
    @Test("each visits integer keys first, then the others in code-point order")
    func objectKeyOrder() throws {
        let testCase = RenderCase("{{#each o}}{{@key}} {{/each}}", #"{"o": {"b": 1, "a": 2, "10": 3, "2": 4, "Z": 5}}"#, "2 10 Z a b ")
        #expect(try testCase.render() == testCase.expected)
    }

    /// handlebars.js on Node.js reads a string's characters as properties; this expected
    /// output is Node.js's.
    @Test("string characters as properties")
    func stringIndex() throws {
        let testCase = RenderCase("{{s.[1]}}{{lookup s 0}}{{s.length}}", #"{"s": "héllo"}"#, "éh5")
        #expect(try testCase.render() == testCase.expected)
    }

    /// handlebars.js quirks that a differential run against handlebars.js 4.7.8 found; each
    /// expected output is handlebars.js's.
    @Test(
        "handlebars.js quirks",
        arguments: [
            // `~` before a partial strips the space, so no indentation is left to repeat.
            RenderCase(" {{~> p}}", "{}", "x", partials: ["p": "x"]),
            // The close of an `{{else if}}` chain keeps its indentation.
            RenderCase("{{#if a}}{{else if b}}x\n {{/if}}", #"{"b": true}"#, "x\n "),
            // ...and is standalone when the chain's first program ends a line.
            RenderCase("{{#if a}}{{else if b}}\n{{else}}x{{/if}}\n", "{}", "x"),
            // A partial after `~}}` lost its indentation to the `~`, so it is not indented.
            RenderCase("{{a~}}\n {{> p}}", "{}", "x", partials: ["p": "x"]),
            // Leading unescaped numbers and booleans are added with JavaScript's `+`.
            RenderCase("{{{a}}}{{{b}}}", #"{"a": 1, "b": 2}"#, "3"),
            RenderCase("{{&a}}{{&b}}", #"{"a": true, "b": 2}"#, "3"),
            RenderCase("x{{{a}}}{{{b}}}", #"{"a": 1, "b": 2}"#, "x12"),
            RenderCase("{{a}}{{b}}", #"{"a": 1, "b": 2}"#, "12"),
            // A hash argument that is undefined still makes a key.
            RenderCase("{{> p a=missing}}", "{}", "[a]", partials: ["p": "{{#each this}}[{{@key}}]{{/each}}"]),
            // A partial's extended context is the same object to `#with this`.
            RenderCase("{{> p x=1}}", #"{"a": 1}"#, "[]", partials: ["p": "{{#with this}}[{{../a}}]{{/with}}"]),
            // A helper called in a null context gets an empty object as `this`.
            RenderCase("{{#each a}}{{#if true}}[{{this}}]{{/if}}{{/each}}", #"{"a": [null]}"#, "[[object Object]]"),
            // The hash's new keys come after the context's keys.
            RenderCase("{{> p b=1 a=2 d=3}}", #"{"c": 3, "z": 4}"#, "c z a b d ", partials: ["p": "{{#each this}}{{@key}} {{/each}}"]),
        ])
    func handlebarsQuirks(_ testCase: RenderCase) throws {
        #expect(try testCase.render() == testCase.expected)
    }
}
