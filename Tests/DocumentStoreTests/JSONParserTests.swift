import DocumentStore
import Testing

/// One input that must be rejected, with the whole error sentence it must produce.
struct InvalidJSONCase: Sendable, CustomTestStringConvertible {
    var text: String
    var description: String

    init(_ text: String, _ description: String) {
        self.text = text
        self.description = description
    }

    var testDescription: String { text.debugDescription }
}

/// One input string literal with the text it must decode to.
struct StringCase: Sendable, CustomTestStringConvertible {
    var json: String
    var expected: String

    init(_ json: String, _ expected: String) {
        self.json = json
        self.expected = expected
    }

    var testDescription: String { json }
}

/// Returns the error that parsing `text` raises, or `nil` when it parses.
func syntaxError(parsing text: String) -> JSONSyntaxError? {
    do {
        _ = try JSONValue(parsing: text)
        return nil
    } catch {
        return error
    }
}

@Suite("JSON parser")
struct JSONParserTests {
    @Test("literals")
    func literals() throws {
        #expect(try JSONValue(parsing: "null") == .null)
        #expect(try JSONValue(parsing: "true") == .bool(true))
        #expect(try JSONValue(parsing: "false") == .bool(false))
    }

    @Test("whitespace around the value")
    func surroundingWhitespace() throws {
        #expect(try JSONValue(parsing: " \t\r\n[ 1 ,\n2 ]\r\n") == [1, 2])
    }

    @Test("nested objects and arrays")
    func nestedContainers() throws {
        let value = try JSONValue(parsing: #"{"to": ["a@example.org"], "message": {"subject": "Hi", "attempts": 2}, "empty": {}, "none": []}"#)

        let expected: JSONValue = [
            "to": ["a@example.org"],
            "message": ["subject": "Hi", "attempts": 2],
            "empty": .object([:]),
            "none": .array([]),
        ]
        #expect(value == expected)
    }

    @Test("duplicate key keeps the last value")
    func duplicateKey() throws {
        #expect(try JSONValue(parsing: #"{"a": 1, "a": 2}"#) == ["a": 2])
    }

    @Test("parsing bytes")
    func parsingBytes() throws {
        #expect(try JSONValue(parsing: Array(#"{"a":"é"}"#.utf8)) == ["a": "é"])
    }

    @Test(
        "numbers",
        arguments: [
            ("0", 0.0), ("42", 42), ("-17", -17), ("3.25", 3.25), ("1e3", 1000), ("1E+3", 1000),
            ("2.5e-3", 0.0025), ("-0.5E2", -50), ("12345678901234567890", 12_345_678_901_234_567_168),
            ("9007199254740993", 9_007_199_254_740_992), ("1e-400", 0),
        ])
    func numbers(text: String, expected: Double) throws {
        #expect(try JSONValue(parsing: text) == .number(expected))
    }

    @Test("negative zero keeps its sign")
    func negativeZero() throws {
        let value = try #require(try JSONValue(parsing: "-0").numberValue)
        #expect(value == 0)
        #expect(value.sign == .minus)
    }

    @Test(
        "string escapes",
        arguments: [
            StringCase(#""plain""#, "plain"),
            StringCase(#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{08}\u{0C}\n\r\t"),
            StringCase(#""a\/b""#, "a/b"),
            StringCase(#""\u0041\u00e9\u20AC""#, "Aé€"),
            StringCase(#""\u0000""#, "\u{0}"),
            StringCase(#""é 😀 中""#, "é 😀 中"),
            StringCase("\"\u{7F}\"", "\u{7F}"),
        ])
    func stringEscapes(_ stringCase: StringCase) throws {
        #expect(try JSONValue(parsing: stringCase.json) == .string(stringCase.expected))
    }

    @Test(
        "surrogate pairs join into one character",
        arguments: [
            StringCase(#""\ud83d\ude00""#, "😀"),
            StringCase(#""\uD83D\uDE00""#, "😀"),
            StringCase(#""x\ud83c\udf89y""#, "x🎉y"),
            StringCase(#""\udbff\udfff""#, "\u{10FFFF}"),
        ])
    func surrogatePairs(_ stringCase: StringCase) throws {
        #expect(try JSONValue(parsing: stringCase.json) == .string(stringCase.expected))
    }

    @Test(
        "lone surrogates become U+FFFD",
        arguments: [
            StringCase(#""\ud83d""#, "\u{FFFD}"),
            StringCase(#""\ud83dx""#, "\u{FFFD}x"),
            StringCase(#""\ud83d\u0041""#, "\u{FFFD}A"),
            StringCase(#""\ud83d\n""#, "\u{FFFD}\n"),
            StringCase(#""\ude00""#, "\u{FFFD}"),
            StringCase(#""\ude00\ud83d""#, "\u{FFFD}\u{FFFD}"),
            StringCase(#""\ud83d\ud83d\ude00""#, "\u{FFFD}😀"),
        ])
    func loneSurrogates(_ stringCase: StringCase) throws {
        #expect(try JSONValue(parsing: stringCase.json) == .string(stringCase.expected))
    }

    @Test("invalid UTF-8 is rejected")
    func invalidUTF8() {
        let bytes: [UInt8] = [0x22, 0x61, 0xFF, 0x62, 0xC3, 0x22]
        #expect(throws: JSONSyntaxError(reason: "a string is not valid UTF-8", offset: 1)) { try JSONValue(parsing: bytes) }
    }

    @Test("escapes in a long string")
    func manyEscapes() throws {
        let line = String(repeating: "é\"\\x", count: 20) + "\n"
        let text = String(repeating: line, count: 2_000)
        let json = JSONValue.string(text).serialized()
        #expect(try JSONValue(parsing: json) == .string(text))
    }

    @Test(
        "invalid text",
        arguments: [
            InvalidJSONCase("", "Invalid JSON at byte 0: unexpected end of input."),
            InvalidJSONCase("   ", "Invalid JSON at byte 3: unexpected end of input."),
            InvalidJSONCase("True", "Invalid JSON at byte 0: unexpected character 'T'."),
            InvalidJSONCase("tru", "Invalid JSON at byte 0: unexpected end of input."),
            InvalidJSONCase("trUe", "Invalid JSON at byte 0: invalid literal, expected true."),
            InvalidJSONCase("[nul]", "Invalid JSON at byte 1: invalid literal, expected null."),
            InvalidJSONCase("undefined", "Invalid JSON at byte 0: unexpected character 'u'."),
            InvalidJSONCase("'a'", "Invalid JSON at byte 0: unexpected character '''."),
        ])
    func invalidValue(_ invalid: InvalidJSONCase) {
        #expect(syntaxError(parsing: invalid.text)?.description == invalid.description)
    }

    @Test(
        "invalid numbers",
        arguments: [
            InvalidJSONCase("01", "Invalid JSON at byte 1: unexpected text after the JSON value."),
            InvalidJSONCase("-", "Invalid JSON at byte 1: invalid number."),
            InvalidJSONCase("-a", "Invalid JSON at byte 1: invalid number."),
            InvalidJSONCase("1.", "Invalid JSON at byte 2: invalid number."),
            InvalidJSONCase("1.e5", "Invalid JSON at byte 2: invalid number."),
            InvalidJSONCase(".5", "Invalid JSON at byte 0: unexpected character '.'."),
            InvalidJSONCase("+1", "Invalid JSON at byte 0: unexpected character '+'."),
            InvalidJSONCase("1e", "Invalid JSON at byte 2: invalid number."),
            InvalidJSONCase("1e+", "Invalid JSON at byte 3: invalid number."),
            InvalidJSONCase("1e400", "Invalid JSON at byte 5: number out of range."),
            InvalidJSONCase("[-1e400]", "Invalid JSON at byte 7: number out of range."),
            InvalidJSONCase("NaN", "Invalid JSON at byte 0: unexpected character 'N'."),
            InvalidJSONCase("Infinity", "Invalid JSON at byte 0: unexpected character 'I'."),
            InvalidJSONCase("0x1F", "Invalid JSON at byte 1: unexpected text after the JSON value."),
        ])
    func invalidNumber(_ invalid: InvalidJSONCase) {
        #expect(syntaxError(parsing: invalid.text)?.description == invalid.description)
    }

    @Test(
        "invalid strings",
        arguments: [
            InvalidJSONCase(#""abc"#, "Invalid JSON at byte 4: unterminated string."),
            InvalidJSONCase("\"a\u{01}b\"", "Invalid JSON at byte 2: unescaped control character in a string."),
            InvalidJSONCase("\"a\nb\"", "Invalid JSON at byte 2: unescaped control character in a string."),
            InvalidJSONCase("\"a\tb\"", "Invalid JSON at byte 2: unescaped control character in a string."),
            InvalidJSONCase(#""ab\x""#, "Invalid JSON at byte 3: invalid escape sequence."),
            InvalidJSONCase(#""\'""#, "Invalid JSON at byte 1: invalid escape sequence."),
            InvalidJSONCase(#""\"#, "Invalid JSON at byte 2: unterminated escape sequence."),
            InvalidJSONCase(#""\u12""#, #"Invalid JSON at byte 3: incomplete \u escape."#),
            InvalidJSONCase(#""\u12G4""#, #"Invalid JSON at byte 5: invalid hex digit in \u escape."#),
            InvalidJSONCase(#""\ud83d\uZZZZ""#, #"Invalid JSON at byte 9: invalid hex digit in \u escape."#),
        ])
    func invalidString(_ invalid: InvalidJSONCase) {
        #expect(syntaxError(parsing: invalid.text)?.description == invalid.description)
    }

    @Test(
        "invalid arrays and objects",
        arguments: [
            InvalidJSONCase("[", "Invalid JSON at byte 1: unexpected end of input."),
            InvalidJSONCase("[1", "Invalid JSON at byte 2: unexpected end of input inside an array."),
            InvalidJSONCase("[1,]", "Invalid JSON at byte 3: unexpected character ']'."),
            InvalidJSONCase("[1 2]", "Invalid JSON at byte 3: expected ',' or ']' in an array."),
            InvalidJSONCase("{", "Invalid JSON at byte 1: expected a string as object key."),
            InvalidJSONCase("{a:1}", "Invalid JSON at byte 1: expected a string as object key."),
            InvalidJSONCase(#"{"a":1,}"#, "Invalid JSON at byte 7: expected a string as object key."),
            InvalidJSONCase(#"{"a" 1}"#, "Invalid JSON at byte 5: expected ':' after object key."),
            InvalidJSONCase(#"{"a":}"#, "Invalid JSON at byte 5: unexpected character '}'."),
            InvalidJSONCase(#"{"a":1 "b":2}"#, "Invalid JSON at byte 7: expected ',' or '}' in an object."),
            InvalidJSONCase(#"{"a":1"#, "Invalid JSON at byte 6: unexpected end of input inside an object."),
            InvalidJSONCase(#"{"a":1]"#, "Invalid JSON at byte 6: expected ',' or '}' in an object."),
        ])
    func invalidContainer(_ invalid: InvalidJSONCase) {
        #expect(syntaxError(parsing: invalid.text)?.description == invalid.description)
    }

    @Test(
        "trailing text after the value",
        arguments: [
            InvalidJSONCase("1 2", "Invalid JSON at byte 2: unexpected text after the JSON value."),
            InvalidJSONCase("{}x", "Invalid JSON at byte 2: unexpected text after the JSON value."),
            InvalidJSONCase(#""a" "b""#, "Invalid JSON at byte 4: unexpected text after the JSON value."),
            InvalidJSONCase("[] ]", "Invalid JSON at byte 3: unexpected text after the JSON value."),
            InvalidJSONCase("null,", "Invalid JSON at byte 4: unexpected text after the JSON value."),
        ])
    func trailingText(_ invalid: InvalidJSONCase) {
        #expect(syntaxError(parsing: invalid.text)?.description == invalid.description)
    }

    @Test("nesting of 512 levels parses")
    func nestingAtLimit() throws {
        let text = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)

        var value = try JSONValue(parsing: text)
        var depth = 0
        while let elements = value.arrayValue {
            depth += 1
            value = elements.first ?? .null
        }
        #expect(depth == 512)
    }

    @Test("nesting of 513 arrays fails at the 513th bracket")
    func arrayNestingOverLimit() {
        let text = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(syntaxError(parsing: text)?.description == "Invalid JSON at byte 512: nesting deeper than 512 levels.")
    }

    @Test("nesting of 513 objects fails at the 513th brace")
    func objectNestingOverLimit() {
        let text = String(repeating: #"{"a":"#, count: 513) + "1" + String(repeating: "}", count: 513)
        #expect(syntaxError(parsing: text)?.description == "Invalid JSON at byte 2560: nesting deeper than 512 levels.")
    }

    @Test("nesting of 100,000 levels fails without exhausting the stack")
    func hostileNesting() {
        let text = String(repeating: "[", count: 100_000)
        #expect(syntaxError(parsing: text)?.offset == 512)
    }
}
