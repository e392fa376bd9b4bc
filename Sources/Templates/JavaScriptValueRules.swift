import DocumentStore

/// Returns the own property `name` of `value` in JavaScript terms: an object's field, an array's element
/// or `length`, or a string's `length`.
func property(_ name: String, of value: JSONValue) -> JSONValue? {
    switch value {
    case .object(let object):
        return object[name]
    case .array(let elements):
        if name == "length" { return .number(Double(elements.count)) }
        guard let index = arrayIndex(name), index < elements.count else { return nil }
        return elements[index]
    case .string(let text):
        if name == "length" { return .number(Double(text.utf16.count)) }
        guard let index = arrayIndex(name), index < text.utf16.count else { return nil }
        return .string(codeUnitString(text, at: index))
    case .null, .bool, .number:
        return nil
    }
}

/// Returns the index that `name` denotes as an array property: decimal digits without a leading zero.
func arrayIndex(_ name: String) -> Int? {
    guard let first = name.first, first.isASCII, first.isNumber else { return nil }
    guard name == "0" || first != "0" else { return nil }
    guard name.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    return Int(name)
}

/// Returns the keys of `object` in the order that `#each` visits them. JavaScript visits array-index keys in
/// ascending order, then the other keys in insertion order.
///
/// NOTE: `JSONObject` does not keep insertion order, so the keys that are not array indices
/// come in code-point order here, which can differ from handlebars.js for the same document.
func orderedKeys(of object: JSONObject) -> [String] {
    let indexKeys = object.keys.compactMap { key in arrayIndex(key).map { (key, $0) } }
        .sorted { $0.1 < $1.1 }
        .map(\.0)
    let otherKeys = object.keys.filter { arrayIndex($0) == nil }
        .sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
    return indexKeys + otherKeys
}

/// Returns the condition of the `if` and `unless` helpers. `false`, `null`, a missing value, `0`, `NaN`,
/// `""` and `[]` are false, and everything else, `{}` included, is true.
func isTruthyForIf(_ value: JSONValue?) -> Bool {
    guard let value else { return false }
    switch value {
    case .null: return false
    case .bool(let flag): return flag
    case .number(let number): return number != 0 && !number.isNaN
    case .string(let text): return !text.isEmpty
    case .array(let elements): return !elements.isEmpty
    case .object: return true
    }
}

/// Returns whether JavaScript treats `value` as true: everything but `false`, `null`, a missing
/// value, `0`, `NaN` and `""`, so unlike `if`, an empty array is true.
func isJavaScriptTruthy(_ value: JSONValue?) -> Bool {
    if case .array? = value { return true }
    return isTruthyForIf(value)
}

/// Returns whether `value` is empty as handlebars.js `Utils.isEmpty` decides, which `with`
/// uses. It matches `isTruthyForIf` except that `0` is not empty.
func isEmpty(_ value: JSONValue) -> Bool {
    if case .number(let number) = value, number == 0 { return false }
    return !isTruthyForIf(value)
}

/// Returns the UTF-16 code unit at `index` of `text` as a one-character string, as JavaScript's
/// `text[index]` does.
///
/// NOTE: JavaScript returns half of a surrogate pair for a character outside the Basic
/// Multilingual Plane. A Swift string cannot contain one, so U+FFFD is returned instead.
private func codeUnitString(_ text: String, at index: Int) -> String {
    let unit = text.utf16[text.utf16.index(text.utf16.startIndex, offsetBy: index)]
    guard let scalar = Unicode.Scalar(unit) else { return "\u{FFFD}" }
    return String(Character(scalar))
}

extension JSONValue {
    /// JavaScript's `Number(value)` for strings and booleans, as loose equality converts them.
    var javaScriptNumber: Double? {
        switch self {
        case .number(let number): return number
        case .bool(let flag): return flag ? 1 : 0
        case .string(let text):
            let trimmed = String(String.UnicodeScalarView(
                text.unicodeScalars.drop(while: isJavaScriptWhitespace).reversed().drop(while: isJavaScriptWhitespace).reversed()))
            // NOTE: hexadecimal, octal and binary literals such as "0x10" are not converted here.
            return trimmed.isEmpty ? 0 : Double(trimmed)
        default: return nil
        }
    }
}
