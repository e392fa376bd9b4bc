import DocumentStore
import Foundation
import Templates
import TestSupport
import Testing

/// One case of a Mustache specification file.
struct MustacheSpecCase: Sendable {
    var name: String
    var template: String
    var data: JSONValue
    var partials: [String: String]
    var expected: String

    /// Compiles the case's template and partials and renders the template.
    func render() throws -> String {
        var compiledPartials: [String: Template] = [:]
        for (partialName, source) in partials {
            compiledPartials[partialName] = try Template(name: partialName, source: source)
        }
        return try Template(name: name, source: template).render(data, partials: compiledPartials)
    }
}

/// Cases of the Mustache specification where handlebars.js 4.7 documents other behaviour, by
/// file and case name, with the reason.
let skippedMustacheSpecCases: [String: [String: String]] = [
    "sections": [
        "Parent contexts": outerContextReason,
        "Variable test": outerContextReason,
        "List Contexts": outerContextReason,
        "Deeply Nested Contexts": outerContextReason,
    ],
    "partials": [
        "Failed Lookup":
            "handlebars.js throws \"The partial text could not be found\" where Mustache renders nothing",
        "Standalone Indentation":
            "handlebars.js indents every line of a standalone partial's output, line breaks that come from data included, where Mustache indents only the partial's own lines",
    ],
]

/// Why the Mustache cases that read names of enclosing sections do not apply to handlebars.js.
let outerContextReason =
    "handlebars.js looks a name up only in the current context (Mustache searches the whole context stack) unless the template is compiled with `compat: true`"

/// A Mustache specification file that is not where the tests expect it.
struct MissingSpecificationFile: Error, CustomStringConvertible {
    var path: String

    var description: String {
        "The Mustache specification file \(path) is missing. The conformance files belong in shared/conformance/mustache-spec beside the repository's folder."
    }
}

/// Returns the folder with the Mustache specification's JSON files, next to the repository.
func mustacheSpecFolder() -> URL {
    TestEnvironment.repositoryRoot.deletingLastPathComponent()
        .appendingPathComponent("shared/conformance/mustache-spec")
}

/// Reads the cases of one specification file, such as `sections`.
func loadMustacheSpecCases(_ file: String) throws -> [MustacheSpecCase] {
    let url = mustacheSpecFolder().appendingPathComponent("\(file).json")
    guard FileManager.default.fileExists(atPath: url.path) else {
        throw MissingSpecificationFile(path: url.path)
    }
    let bytes = try [UInt8](Data(contentsOf: url))
    let document = try JSONValue(parsing: bytes)

    let tests = document.objectValue?["tests"]?.arrayValue ?? []
    return tests.compactMap { test -> MustacheSpecCase? in
        guard let fields = test.objectValue,
            let name = fields["name"]?.stringValue,
            let template = fields["template"]?.stringValue,
            let expected = fields["expected"]?.stringValue
        else { return nil }
        var partials: [String: String] = [:]
        for (partialName, source) in fields["partials"]?.objectValue ?? [:] {
            partials[partialName] = source.stringValue
        }
        return MustacheSpecCase(
            name: name, template: template, data: fields["data"] ?? .null, partials: partials, expected: expected)
    }
}

@Suite("Mustache specification")
struct MustacheSpecTests {
    @Test("specification folder is present")
    func specificationFolderIsPresent() {
        let path = mustacheSpecFolder().path
        #expect(
            FileManager.default.fileExists(atPath: path),
            "The Mustache specification files are missing: expected them at \(path), beside the repository's folder."
        )
    }

    @Test("specification file", arguments: ["interpolation", "sections", "inverted", "comments", "partials"])
    func specificationFile(_ file: String) throws {
        let cases = try loadMustacheSpecCases(file)
        let skipped = skippedMustacheSpecCases[file] ?? [:]
        #expect(!cases.isEmpty, "\(file).json has no test cases")

        for name in skipped.keys {
            #expect(cases.contains { $0.name == name }, "the skipped case \"\(name)\" is not in \(file).json")
        }

        for specCase in cases where skipped[specCase.name] != nil {
            // A skipped case must still differ, or the skip is no longer needed.
            let output = try? specCase.render()
            #expect(output != specCase.expected, "\(file): \(specCase.name) now passes and can run again")
        }

        for specCase in cases where skipped[specCase.name] == nil {
            let output: String
            do {
                output = try specCase.render()
            } catch {
                Issue.record("\(file): \(specCase.name): \(error)")
                continue
            }
            #expect(output == specCase.expected, "\(file): \(specCase.name)")
        }
    }
}
