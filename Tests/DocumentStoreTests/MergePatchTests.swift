import DocumentStore
import Testing

/// A target, a patch and the result of applying one to the other, each as JSON text.
struct MergePatchCase: Sendable, CustomTestStringConvertible {
    var target: String
    var patch: String
    var result: String

    var testDescription: String { "\(target) + \(patch)" }
}

@Suite("JSON Merge Patch")
struct MergePatchTests {
    /// The examples of RFC 7396 appendix A, in its order.
    static let rfcExamples: [MergePatchCase] = [
        MergePatchCase(target: #"{"a":"b"}"#, patch: #"{"a":"c"}"#, result: #"{"a":"c"}"#),
        MergePatchCase(target: #"{"a":"b"}"#, patch: #"{"b":"c"}"#, result: #"{"a":"b","b":"c"}"#),
        MergePatchCase(target: #"{"a":"b"}"#, patch: #"{"a":null}"#, result: #"{}"#),
        MergePatchCase(target: #"{"a":"b","b":"c"}"#, patch: #"{"a":null}"#, result: #"{"b":"c"}"#),
        MergePatchCase(target: #"{"a":["b"]}"#, patch: #"{"a":"c"}"#, result: #"{"a":"c"}"#),
        MergePatchCase(target: #"{"a":"c"}"#, patch: #"{"a":["b"]}"#, result: #"{"a":["b"]}"#),
        MergePatchCase(target: #"{"a":{"b":"c"}}"#, patch: #"{"a":{"b":"d","c":null}}"#, result: #"{"a":{"b":"d"}}"#),
        MergePatchCase(target: #"{"a":[{"b":"c"}]}"#, patch: #"{"a":[1]}"#, result: #"{"a":[1]}"#),
        MergePatchCase(target: #"["a","b"]"#, patch: #"["c","d"]"#, result: #"["c","d"]"#),
        MergePatchCase(target: #"{"a":"b"}"#, patch: #"["c"]"#, result: #"["c"]"#),
        MergePatchCase(target: #"{"a":"foo"}"#, patch: "null", result: "null"),
        MergePatchCase(target: #"{"a":"foo"}"#, patch: #""bar""#, result: #""bar""#),
        MergePatchCase(target: #"{"e":null}"#, patch: #"{"a":1}"#, result: #"{"e":null,"a":1}"#),
        MergePatchCase(target: "[1,2]", patch: #"{"a":"b","c":null}"#, result: #"{"a":"b"}"#),
        MergePatchCase(target: "{}", patch: #"{"a":{"bb":{"ccc":null}}}"#, result: #"{"a":{"bb":{}}}"#),
    ]

    @Test("RFC 7396 appendix A examples", arguments: rfcExamples)
    func rfcExample(_ example: MergePatchCase) throws {
        let target = try JSONValue(parsing: example.target)
        let patch = try JSONValue(parsing: example.patch)
        #expect(target.applyingMergePatch(patch) == (try JSONValue(parsing: example.result)))
    }

    @Test("retry patch keeps the other delivery fields")
    func retryPatch() throws {
        let document: JSONValue = ["to": "a@example.org", "delivery": ["state": "ERROR", "attempts": 2, "error": "550"]]
        let patched = document.applyingMergePatch(["delivery": ["state": "RETRY"]])

        let expected: JSONValue = ["to": "a@example.org", "delivery": ["state": "RETRY", "attempts": 2, "error": "550"]]
        #expect(patched == expected)
    }
}
