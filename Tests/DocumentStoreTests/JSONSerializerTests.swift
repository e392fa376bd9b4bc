import DocumentStore
import Testing

@Suite("JSON serializer")
struct JSONSerializerTests {
    @Test("compact output sorts keys")
    func compactSortsKeys() {
        let value: JSONValue = ["b": 1, "a": [true, false, nil], "c": ["z": "", "y": .object([:])]]
        #expect(value.serialized() == #"{"a":[true,false,null],"b":1,"c":{"y":{},"z":""}}"#)
    }

    @Test("string escapes")
    func stringEscapes() {
        let value = JSONValue.string("\"\\/\n\r\t\u{08}\u{0C}\u{0}\u{01}\u{1F}\u{7F}\u{2028}\u{2029}")
        #expect(value.serialized() == #""\"\\/\n\r\t\b\f\u0000\u0001\u001f\#u{7F}\u2028\u2029""#)
    }

    @Test("non-ASCII text stays UTF-8")
    func nonASCIIText() {
        #expect(JSONValue.string("Ана 王 😀").serialized() == "\"Ана 王 😀\"")
    }

    @Test(
        "numbers",
        arguments: [
            (3.0, "3"), (-17.0, "-17"), (-0.0, "0"), (1.5, "1.5"), (0.1, "0.1"), (-2.25, "-2.25"),
            (9_007_199_254_740_991, "9007199254740991"), (9_007_199_254_740_992, "9007199254740992.0"),
            (1e21, "1e+21"), (1e-7, "1e-07"),
        ])
    func numbers(value: Double, expected: String) {
        #expect(JSONValue.number(value).serialized() == expected)
    }

    @Test("NaN and infinities become null", arguments: [Double.nan, .infinity, -.infinity])
    func nonFiniteNumbers(value: Double) {
        #expect(JSONValue.number(value).serialized() == "null")
    }

    @Test(
        "numbers survive a round trip",
        arguments: [0.1, 1.0 / 3.0, -1e-300, .greatestFiniteMagnitude, .leastNonzeroMagnitude, 123_456_789.125, 0x1p60])
    func numberRoundTrip(value: Double) throws {
        #expect(try JSONValue(parsing: JSONValue.number(value).serialized()) == .number(value))
    }

    @Test("document survives a round trip")
    func documentRoundTrip() throws {
        let value: JSONValue = [
            "to": ["ana@example.org", "Ана <ana@example.org>"],
            "message": ["subject": "Line 1\nLine \"2\"\t😀", "html": "<p>\u{2028}</p>"],
            "delivery": ["state": "ERROR", "attempts": 3, "error": nil, "ok": false],
        ]
        #expect(try JSONValue(parsing: value.serialized()) == value)
        #expect(try JSONValue(parsing: value.prettySerialized()) == value)
    }

    @Test("pretty output indents by two spaces")
    func prettyOutput() {
        let value: JSONValue = ["b": .object([:]), "a": [1, ["c": "d"]], "e": .array([])]
        let expected = """
            {
              "a": [
                1,
                {
                  "c": "d"
                }
              ],
              "b": {},
              "e": []
            }
            """
        #expect(value.prettySerialized() == expected)
    }

    @Test("pretty output of a scalar")
    func prettyScalar() {
        #expect(JSONValue.string("x").prettySerialized() == #""x""#)
    }
}
